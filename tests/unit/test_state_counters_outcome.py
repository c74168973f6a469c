"""Last-write audits, the system's own counters, and how records become pytest outcomes:
each on a hand-made history that must fail as well as one that must pass."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import findings
from core.checkers.state import judge_last_write
from core.counters import CounterSpec, Snapshot, growth, growth_over
from core.evidence import EffectCheck
from core.ledger import Op
from core.record import ScenarioRecord, Timeline, overall_verdict
from core.verdict import Judgement, Verdict
from harness.observe import parse_metrics as parse
from scenarios.outcome import junit_properties, settle, settle_as_written

H, V, U = Verdict.HOLDS, Verdict.VIOLATED, Verdict.INCONCLUSIVE


def history(*events: tuple[float, str, str]) -> list[Op]:
    """(time, type, op id) events of profile writes by one process."""
    return [Op(t, "p", kind, "profile", op_id) for t, kind, op_id in events]  # type: ignore[arg-type]


def _judge(ops: list[Op], stored: dict[str, str]) -> Judgement:
    key_of = {op.id: op.id.split("~")[0] for op in ops}
    return judge_last_write(ops, "profile", key_of, stored)


def test_last_acknowledged_write_read_back_holds() -> None:
    ops = history((1, "invoke", "u~1"), (2, "ok", "u~1"), (3, "invoke", "u~2"), (4, "ok", "u~2"))
    assert _judge(ops, {"u": "u~2"}).verdict is H


def test_an_older_value_read_back_is_a_lost_update() -> None:
    ops = history((1, "invoke", "u~1"), (2, "ok", "u~1"), (3, "invoke", "u~2"), (4, "ok", "u~2"))
    j = _judge(ops, {"u": "u~1"})
    assert j.verdict is V and j.measured == 1


def test_a_later_write_of_unknown_outcome_may_have_landed() -> None:
    ops = history((1, "invoke", "u~1"), (2, "ok", "u~1"), (3, "invoke", "u~2"), (4, "info", "u~2"))
    assert _judge(ops, {"u": "u~2"}).verdict is H
    assert _judge(ops, {"u": "u~1"}).verdict is H
    failed = history((1, "invoke", "u~1"), (2, "ok", "u~1"), (3, "invoke", "u~2"), (4, "fail", "u~2"))
    assert _judge(failed, {"u": "u~2"}).verdict is V  # a write that definitely failed must not show


def test_no_acknowledged_write_is_inconclusive() -> None:
    assert _judge(history((1, "invoke", "u~1"), (2, "fail", "u~1")), {"u": ""}).verdict is U


TEXT = """# TYPE wal_recovered_tasks counter
wal_recovered_tasks_total{action="republished"} 7.0
wal_recovered_tasks_total{action="timeout"} 2.0
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1000.0
"""


def test_counter_growth_within_one_process_and_across_a_restart() -> None:
    spec = CounterSpec("worker-ai", "wal_recovered_tasks_total", {"action": "republished"})
    before = parse(TEXT)
    assert before.total(spec.metric, spec.labels) == 7.0
    assert growth(spec, before, parse(TEXT.replace("} 7.0", "} 10.0"))) == 3.0
    restarted = parse(TEXT.replace("} 7.0", "} 4.0").replace("1000.0", "2000.0"))
    assert growth(spec, before, restarted) == 4.0  # a new process counts from zero
    assert growth(spec, before, parse(TEXT)) == 0.0  # nothing happened: no growth
    assert growth(spec, before, Snapshot(None, None)) is None  # unreachable after: unknown
    assert growth(spec, Snapshot(None, None), parse(TEXT)) == 7.0
    assert spec.key == 'worker-ai:wal_recovered_tasks_total{action="republished"}'


def test_growth_over_a_restart_at_heal_keeps_what_the_old_process_counted() -> None:
    spec = CounterSpec("worker-ai", "gpt5_api_errors_total")
    text = "# TYPE gpt5_api_errors counter\ngpt5_api_errors_total {n}\nprocess_start_time_seconds {t}\n"
    before, at_heal = parse(text.format(n=5, t=1)), parse(text.format(n=205, t=1))
    after_restart = parse(text.format(n=3, t=2))
    assert growth(spec, before, after_restart) == 3.0  # two points only: the old process's 200 are lost
    assert growth_over(spec, [before, at_heal, after_restart]) == 203.0
    assert growth_over(spec, [before, Snapshot(None, None), after_restart]) == 3.0  # down at heal: from zero
    same = parse(text.format(n=9, t=1))  # unreachable at heal (paused), not restarted: one process's growth
    assert growth_over(spec, [before, Snapshot(None, None), same]) == 4.0
    assert growth_over(spec, [Snapshot(None, None), Snapshot(None, None)]) is None


def _record(judgements: list[Judgement], effect_ok: bool = True, errors: list[str] | None = None) -> ScenarioRecord:
    effect = [EffectCheck("fault", effect_ok)]
    return ScenarioRecord(
        "F9",
        "t",
        0.02,
        Timeline(1.0, 10.0),
        overall_verdict(judgements, errors or [], effect),
        judgements=judgements,
        effect=effect,
        errors=errors or [],
    )


def _j(name: str, verdict: Verdict) -> Judgement:
    return Judgement(name, verdict, 0, 0, "ops")


KNOWN = findings.parse("""
[[finding]]
failure_point = "F9"
judgement = "wal_rows_kept"
reason = "the design has no story for F9"
shown_by = "runs/x"
fix = "detect it"

[[finding]]
failure_point = "F9"
judgement = "detection_resolved A"
verdict = "inconclusive"
reason = "follows from the alert that never fired"
shown_by = "runs/x"
fix = "fire it"
""")


def test_a_known_false_judgement_alone_is_an_xfail() -> None:
    with pytest.raises(pytest.xfail.Exception):
        settle(_record([_j("upload:rpo", H), _j("wal_rows_kept", V)]), KNOWN)


def test_a_new_violation_beside_a_known_false_one_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match="upload:rpo"):
        settle(_record([_j("upload:rpo", V), _j("wal_rows_kept", V)]), KNOWN)


def test_inconclusive_is_never_a_pass_not_even_beside_a_known_false_one() -> None:
    with pytest.raises(pytest.fail.Exception, match="INCONCLUSIVE"):
        settle(_record([_j("in_flight", U), _j("wal_rows_kept", V)]), KNOWN)
    with pytest.raises(pytest.fail.Exception, match="INCONCLUSIVE"):
        settle(_record([_j("upload:rpo", H)], effect_ok=False), {})


def test_a_known_false_judgement_that_holds_fails_so_the_table_is_corrected() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"delete it from accepted-findings\.toml"):
        settle(_record([_j("upload:rpo", H), _j("wal_rows_kept", H)]), KNOWN)


def test_an_accepted_inconclusive_judgement_is_accepted_only_as_inconclusive() -> None:
    with pytest.raises(pytest.xfail.Exception):
        settle(_record([_j("upload:rpo", H), _j("wal_rows_kept", V), _j("detection_resolved A", U)]), KNOWN)
    # with nothing else judged, nothing is proven: inconclusive
    with pytest.raises(pytest.fail.Exception, match="INCONCLUSIVE"):
        settle(_record([_j("wal_rows_kept", V)]), KNOWN)
    # wal_rows_kept is accepted as violated, not as inconclusive: that one is not a pass
    with pytest.raises(pytest.fail.Exception, match="INCONCLUSIVE"):
        settle(_record([_j("upload:rpo", H), _j("wal_rows_kept", U), _j("detection_resolved A", U)]), KNOWN)
    # the same judgement in another scenario is not accepted
    other = replace(_record([_j("upload:rpo", H), _j("wal_rows_kept", V)]), fid="F8")
    with pytest.raises(pytest.fail.Exception, match="wal_rows_kept"):
        settle(other, KNOWN)


def test_a_harness_error_fails_and_never_hides_a_violation() -> None:
    with pytest.raises(pytest.fail.Exception, match="HARNESS ERROR"):
        settle(_record([_j("upload:rpo", H)], errors=["boom"]), {})
    record = _record([_j("upload:rpo", V)], errors=["boom"])
    assert record.verdict is V
    with pytest.raises(pytest.fail.Exception, match="upload:rpo"):
        settle(record, {})


def test_all_holding_passes() -> None:
    settle(_record([_j("upload:rpo", H)]), {})


def test_junit_properties_carry_each_judgements_figures() -> None:
    props = dict(junit_properties(_record([Judgement("rto:waste", V, 41.5, 30, "s"), _j("upload:rpo", H)])))
    assert props["verdict"] == "violated"
    assert (
        props["rto:waste.verdict"],
        props["rto:waste.measured"],
        props["rto:waste.claimed"],
        props["rto:waste.unit"],
    ) == ("violated", 41.5, 30, "s")
    assert props["upload:rpo.verdict"] == "holds"


def test_as_written_a_violation_is_an_xfail_only_when_nothing_else_failed() -> None:
    with pytest.raises(pytest.xfail.Exception):
        settle_as_written(_record([_j("upload:rpo", V), _j("isolation", H)]))
    with pytest.raises(pytest.fail.Exception, match="HARNESS ERROR"):
        settle_as_written(_record([_j("upload:rpo", V)], errors=["probe died"]))
    with pytest.raises(pytest.fail.Exception, match="INCONCLUSIVE"):
        settle_as_written(_record([_j("upload:rpo", V), _j("isolation", U)]))
    with pytest.raises(pytest.fail.Exception, match="INCONCLUSIVE"):
        settle_as_written(_record([_j("upload:rpo", V)], effect_ok=False))
    settle_as_written(_record([_j("upload:rpo", H)]))  # holds: passes


def test_as_written_what_follows_from_a_finding_is_not_held_against_the_review() -> None:
    never = [_j("detection A", V), _j("detection_resolved A", U)]  # nothing to resolve
    with pytest.raises(pytest.xfail.Exception):
        settle_as_written(_record([*never, _j("exercised:waste-api:outbox_relayed_total", U)]))
    with pytest.raises(pytest.fail.Exception, match="INCONCLUSIVE"):  # another alert's resolution still counts
        settle_as_written(_record([*never, _j("detection_resolved B", U)]))
