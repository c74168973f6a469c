"""Checkers on hand-made histories: each planted defect is VIOLATED, clean is HOLDS, no data INCONCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterable

from core.checkers import (
    Sample,
    analyse_rpo,
    availability,
    canary_samples,
    check_isolation,
    check_rpo,
    downtime_s,
    judge_rto,
    measure_recovery,
)
from core.checkers.rto import judge_relapse
from core.ledger import Outcome
from core.verdict import Judgement, Verdict, combine, exit_code, worst

# U: unknown, i.e. inconclusive (Jepsen's :unknown).
H, V, U, E = Verdict.HOLDS, Verdict.VIOLATED, Verdict.INCONCLUSIVE, Verdict.HARNESS_ERROR


def acked(*ids: str) -> dict[str, Outcome]:
    return dict.fromkeys(ids, "ok")


def verdicts(js: list[Judgement]) -> list[Verdict]:
    return [j.verdict for j in js]


# ---- verdicts -----------------------------------------------------------------------------


def test_worst_order_and_exit_codes() -> None:
    assert worst([H, U]) is U
    assert worst([H, U, V]) is V
    assert worst([U, E, H]) is E
    assert worst([V, E, H]) is V  # a harness error never hides a proven violation
    assert worst([]) is U  # nothing judged is not a pass
    assert [exit_code(v) for v in (H, V, U, E)] == [0, 1, 2, 3]
    assert not Judgement("x", U, None, 0, "ops").passed
    assert combine([Judgement("a", H, 0, 0, "ops"), Judgement("b", U, None, 0, "ops")]) is U


# ---- RPO / exactly-once -------------------------------------------------------------------


def test_rpo_clean_history_holds() -> None:
    out = acked("a", "b", "c") | {"d": "fail"}
    assert verdicts(check_rpo(out, {"a": 1, "b": 1, "c": 1})) == [H, H]


def test_lost_ack_is_violated_with_sample() -> None:
    rpo, once = check_rpo(acked("a", "b", "c"), {"a": 1, "c": 1})
    assert (rpo.verdict, rpo.measured, once.verdict) == (V, 1, H)
    assert isinstance(rpo.evidence, dict)
    assert rpo.evidence["samples"]["lost"] == ["b"]


def test_duplicate_violates_exactly_once_only() -> None:
    rpo, once = check_rpo(acked("a", "b"), {"a": 2, "b": 1})
    assert (rpo.verdict, once.verdict, once.measured) == (H, V, 1)
    assert isinstance(once.evidence, dict) and once.evidence["samples"] == ["a"]


def test_unexpected_results_are_violations() -> None:
    # "x" was answered with a definite failure yet completed; "ghost" was never invoked.
    out: dict[str, Outcome] = {"a": "ok", "x": "fail"}
    audit = analyse_rpo(out, {"a": 1, "x": 1, "ghost": 1})
    assert audit.unexpected == {"x", "ghost"}
    assert verdicts(check_rpo(out, {"a": 1, "x": 1, "ghost": 1}))[0] is V


def test_unknown_outcomes_may_complete_or_not() -> None:
    out: dict[str, Outcome] = acked(*"abcdefgh") | {"maybe1": "info", "maybe2": "info"}
    done = dict.fromkeys("abcdefgh", 1) | {"maybe1": 1}
    audit = analyse_rpo(out, done)
    assert audit.recovered == {"maybe1"} and audit.unknown == {"maybe2"} and not audit.lost
    assert verdicts(check_rpo(out, done)) == [H, H]


def test_stuck_ack_counts_as_not_delivered_but_is_reported_as_stuck() -> None:
    out = acked("a", "b")
    audit = analyse_rpo(out, {"a": 1}, stuck={"b"})
    assert audit.stuck == {"b"} and not audit.lost
    assert verdicts(check_rpo(out, {"a": 1}, stuck={"b"}))[0] is V
    # the drain gave up: work still held after its deadline is as undelivered as lost work
    stuck_after_deadline = check_rpo(out, {"a": 1}, stuck={"b"}, drained=False)[0]
    assert stuck_after_deadline.verdict is V and isinstance(stuck_after_deadline.evidence, dict)
    assert "still held" in stuck_after_deadline.evidence["reason"]


def test_stuck_work_is_told_apart_from_lost_work_by_where_it_is_held() -> None:
    out = acked("a", "b", "c", "d")
    audit = analyse_rpo(out, {"a": 1}, stuck={"queue:user_input_queue": {"b"}, "outbox": {"c"}})
    assert audit.lost == {"d"} and audit.stuck_acknowledged == {"b", "c"}
    rpo = check_rpo(out, {"a": 1}, stuck={"queue:user_input_queue": {"b"}, "outbox": {"c"}})[0]
    assert isinstance(rpo.evidence, dict) and rpo.evidence["stuck_in"] == {"outbox": 1, "queue:user_input_queue": 1}
    assert rpo.measured == 3


def test_an_acknowledged_op_without_its_durable_record_is_violated() -> None:
    # every result is there, but the upload's own row vanished (e.g. an unsynced commit lost)
    rpo = check_rpo(acked("a", "b"), {"a": 1, "b": 1}, records={"tasks row": {"a"}})[0]
    assert rpo.verdict is V and rpo.measured == 1
    assert isinstance(rpo.evidence, dict) and rpo.evidence["missing"]["tasks row"]["samples"] == ["b"]
    assert check_rpo(acked("a", "b"), {"a": 1, "b": 1}, records={"tasks row": {"a", "b"}})[0].verdict is H


def test_rpo_states_its_resolution() -> None:
    rpo = check_rpo(acked(*[f"t{i}" for i in range(300)]), {f"t{i}": 1 for i in range(300)})[0]
    assert isinstance(rpo.evidence, dict)
    assert rpo.evidence["resolution"] == {"audited": 300, "detectable_loss_rate": 0.01}


def test_too_many_unknown_outcomes_make_a_clean_audit_inconclusive() -> None:
    out: dict[str, Outcome] = acked("a", "b", "c", "d") | {"x": "info", "y": "info", "z": "info"}
    assert check_rpo(out, {"a": 1, "b": 1, "c": 1, "d": 1})[0].verdict is U  # 3 of 7 unknown > a third
    out = acked("a", "b", "c", "d") | {"x": "info", "y": "info"}
    assert check_rpo(out, {"a": 1, "b": 1, "c": 1, "d": 1})[0].verdict is H  # 2 of 6: exactly a third
    out = acked(*"abcdefghij") | {"x": "info"}
    assert check_rpo(out, dict.fromkeys("abcdefghij", 1))[0].verdict is H  # 1 of 11 is within sight
    assert check_rpo(out | {"k": "ok"}, dict.fromkeys("abcdefghij", 1))[0].verdict is V  # a loss still shows


def test_a_stored_result_that_differs_from_the_wal_violates_exactly_once() -> None:
    once = check_rpo(acked("a", "b"), {"a": 1, "b": 1}, mismatched={"b"})[1]
    assert once.verdict is V and isinstance(once.evidence, dict) and once.evidence["mismatched"]["samples"] == ["b"]


def test_dead_lettered_ack_is_not_delivered_unless_accepted() -> None:
    out = acked("a", "b")
    audit = analyse_rpo(out, {"a": 1}, dead_lettered={"b"})
    assert audit.dead_lettered_acknowledged == {"b"} and not audit.lost
    assert verdicts(check_rpo(out, {"a": 1}, dead_lettered={"b"}))[0] is V
    assert verdicts(check_rpo(out, {"a": 1}, dead_lettered={"b"}, accept_dead_lettered=True))[0] is H


def test_dead_letters_of_an_earlier_history_are_not_this_ones() -> None:
    audit = analyse_rpo(acked("a"), {"a": 1}, dead_lettered={"x"})
    assert not audit.dead_lettered and verdicts(check_rpo(acked("a"), {"a": 1}, dead_lettered={"x"}))[0] is H


def test_rpo_without_data_is_inconclusive() -> None:
    assert verdicts(check_rpo({}, {})) == [U, U]
    assert verdicts(check_rpo({"a": "fail"}, {})) == [U, U]
    assert verdicts(check_rpo(acked("a"), None)) == [U, U]  # the audit could not read the DB


def test_samples_are_capped_at_ten() -> None:
    ids = [f"t{n:03}" for n in range(50)]
    rpo = check_rpo(acked(*ids), {})[0]
    assert isinstance(rpo.evidence, dict)
    assert rpo.measured == 50 and len(rpo.evidence["samples"]["lost"]) == 10


# ---- RTO ----------------------------------------------------------------------------------


def probes(domain: str, pattern: str, start: float = 0.0, step: float = 1.0) -> list[Sample]:
    """Samples from a pattern like '++--+++': + ok, - failed, one per step."""
    return [Sample(start + k * step, domain, c == "+", 0.01) for k, c in enumerate(pattern)]


def test_rto_recovery_within_claim_holds() -> None:
    # Injected at t=0.5; probes still pass at t=1 (crash not registered yet), fail 2..11, back at 12.
    samples = probes("waste", "++" + "-" * 10 + "+++++")
    rec = measure_recovery(samples, "waste", since=0.5, until=20)
    assert (rec.failed_at, rec.recovered_at) == (2.0, 12.0)
    j = judge_rto(rec, 30)
    assert (j.verdict, j.measured) == (H, 11.5)


def test_rto_too_slow_is_violated() -> None:
    samples = probes("waste", "+" + "-" * 45 + "+++")
    j = judge_rto(measure_recovery(samples, "waste", since=0.5, until=60), 30)
    assert (j.verdict, j.measured) == (V, 45.5)
    edge = probes("waste", "+" + "-" * 29 + "+++")  # back 29.5 s after the reference
    assert judge_rto(measure_recovery(edge, "waste", since=0.5, until=40), 29.5).verdict is H
    assert judge_rto(measure_recovery(edge, "waste", since=0.5, until=40), 29.4).verdict is V


def test_flapping_needs_three_in_a_row() -> None:
    rec = measure_recovery(probes("auth", "+-++-+-+++"), "auth", since=0.5, until=10)
    assert rec.recovered_at == 7.0


def test_never_recovers_is_violated_when_watched_long_enough() -> None:
    samples = probes("pipeline", "+" + "-" * 99)
    j = judge_rto(measure_recovery(samples, "pipeline", since=0.5, until=99), 60)
    assert j.verdict is V and isinstance(j.measured, str) and j.measured.startswith("not recovered within")
    short = judge_rto(measure_recovery(samples, "pipeline", since=0.5, until=20), 60)
    assert short.verdict is U  # watched less than the claim: cannot prove it false


def test_a_capability_that_never_failed_has_no_rto() -> None:
    j = judge_rto(measure_recovery(probes("chat", "+" * 20), "chat", since=0.5, until=20), 30)
    assert (j.verdict, j.measured) == (U, "not exercised")
    assert isinstance(j.evidence, dict) and "not exercised" in j.evidence["reason"]


def test_rto_is_measured_from_the_reference_but_the_outage_is_seen_from_the_injection() -> None:
    # a crash loop from t=0.5 (down from t=1), the last kill at t=8.5, back at t=12
    samples = probes("waste", "+" + "-" * 11 + "+++++")
    rec = measure_recovery(samples, "waste", since=8.5, until=20, reference="last SIGKILL", injected=0.5)
    assert (rec.failed_at, rec.recovered_at, rec.rto_s) == (1.0, 12.0, 3.5)
    # recovered before the reference (the fault's effect ended while it still acted): RTO 0, not "never failed"
    early = measure_recovery(probes("waste", "+--++++++++++++"), "waste", since=8.5, until=14, injected=0.5)
    assert early.took_effect and early.rto_s == 0.5  # the first probe after the reference


def test_rto_without_samples_is_inconclusive() -> None:
    j = judge_rto(measure_recovery(probes("chat", "+++"), "waste", since=0, until=10), 30)
    assert j.verdict is U


def test_rto_from_heal_when_already_down() -> None:
    # Outage from t=1; healed at t=10.5; back at t=14.
    samples = probes("pipeline", "+" + "-" * 13 + "++++")
    rec = measure_recovery(samples, "pipeline", since=10.5, until=18, reference="heal", injected=0.5)
    assert (rec.failed_at, rec.recovered_at, rec.rto_s) == (1.0, 14.0, 3.5)
    j = judge_rto(rec, 30)
    assert j.claim == "rto:pipeline" and isinstance(j.evidence, dict) and j.evidence["reference"] == "heal"


def test_a_recovery_counts_only_once_it_stays_up() -> None:
    # back at t=3, down again at t=6 (within 5 s), back for good at t=9
    samples = probes("waste", "---+++---+++++++")
    rec = measure_recovery(samples, "waste", since=0.5, until=15, injected=0.5, stable_s=5)
    assert (rec.recovered_at, rec.relapses) == (9.0, (3.0,))
    unstable = measure_recovery(samples, "waste", since=0.5, until=15, injected=0.5)  # no stability asked
    assert unstable.recovered_at == 3.0
    # back at t=9 but watched only until t=12: not confirmed yet
    assert measure_recovery(samples, "waste", since=0.5, until=12, injected=0.5, stable_s=5).recovered_at is None
    # a single miss after the streak is not a fall
    rec = measure_recovery(probes("waste", "---+++-++++++"), "waste", since=0.5, until=12, injected=0.5, stable_s=5)
    assert (rec.recovered_at, rec.relapses) == (3.0, ())


def test_flapping_after_recovery_is_violated() -> None:
    once = measure_recovery(probes("waste", "---+++---+++++++"), "waste", 0.5, 15, injected=0.5, stable_s=5)
    assert judge_relapse(once).verdict is H  # one premature run is allowed (a backlog's drain)
    twice = measure_recovery(probes("waste", "---+++---+++---++++++++"), "waste", 0.5, 22, injected=0.5, stable_s=5)
    j = judge_relapse(twice)
    assert j.verdict is V and j.measured == 2
    never = measure_recovery(probes("waste", "------"), "waste", 0.5, 5, injected=0.5, stable_s=5)
    assert judge_relapse(never).verdict is U


def test_downtime_and_availability() -> None:
    samples = probes("waste", "++----++++")  # down from t=2 to t=6
    assert downtime_s(samples, "waste", 0, 10) == 4.0
    assert downtime_s(samples, "waste", 3, 5) == 2.0  # clipped to the window
    assert availability(samples, "waste", 0, 9) == 0.6
    assert availability(samples, "chat", 0, 9) is None


def test_canaries_are_samples_at_submit_time() -> None:
    got = canary_samples({"c1": 10.0, "c2": 20.0, "c3": 30.0}, {"c1": 15.0, "c2": 90.0}, deadline_s=30)
    assert [(s.t, s.ok) for s in got] == [(10.0, True), (20.0, False), (30.0, False)]
    assert got[0].domain == "pipeline" and got[1].latency_s == 70.0
    # while the run goes on, a canary still within its deadline is undecided, not failed
    live = canary_samples({"c1": 10.0, "c2": 95.0}, {"c1": 15.0}, deadline_s=30, now=100.0)
    assert [(s.t, s.ok) for s in live] == [(10.0, True)]


# ---- isolation ----------------------------------------------------------------------------


def world(down: Iterable[str] = (), n: int = 20) -> list[Sample]:
    return [s for d in ("waste", "auth", "chat") for s in probes(d, ("-" if d in down else "+") * n)]


def test_isolation_holds_when_only_allowed_domains_suffer() -> None:
    j = check_isolation(world(down=["waste"]), 0, 19, allowed={"waste", "pipeline"})
    assert (j.verdict, j.measured) == (H, 1.0)


def test_neighbour_down_is_violated_and_named() -> None:
    j = check_isolation(world(down=["waste", "chat"]), 0, 19, allowed={"waste"})
    assert j.verdict is V and isinstance(j.evidence, dict)
    assert j.evidence["violated"] == ["chat"] and j.evidence["domains"]["chat"]["availability"] == 0.0


def test_isolation_threshold_is_configurable() -> None:
    samples = world() + probes("chat", "-", start=19.5) + probes("chat", "-", start=19.7)  # chat 20/22 ~ 0.909
    assert check_isolation(samples, 0, 20, allowed=set(), min_availability=0.9).verdict is H
    assert check_isolation(samples, 0, 20, allowed=set(), min_availability=0.95).verdict is V


def test_too_few_samples_is_inconclusive_unless_someone_is_violated() -> None:
    few = world() + probes("location", "+++")
    assert check_isolation(few, 0, 19, allowed=set()).verdict is U
    unprobed = check_isolation(world(), 0, 19, allowed=set(), domains=["auth", "recycle"])
    assert unprobed.verdict is U and isinstance(unprobed.evidence, dict)
    assert unprobed.evidence["too_few_samples"] == ["recycle"]
    assert check_isolation(world(down=["chat"]) + probes("location", "+"), 0, 19, allowed=set()).verdict is V
    assert check_isolation([], 0, 19, allowed=set()).verdict is U


def test_a_hanging_neighbour_yields_failing_samples_not_too_few() -> None:
    """Probes that hang are recorded as failures for each period they hung (harness/probes.py)."""
    from harness.probes import Prober

    prober = Prober.__new__(Prober)
    prober.samples, prober._lock = [], __import__("threading").Lock()
    prober._record("chat", 10.0, False, latency=2.0, period=0.2)
    assert [round(s.t, 1) for s in prober.samples] == [10.0 + 0.2 * k for k in range(11)]
    assert not any(s.ok for s in prober.samples)
    j = check_isolation(world() + prober.samples, 0, 19, allowed=set())
    assert j.verdict is V
