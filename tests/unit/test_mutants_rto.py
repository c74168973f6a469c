"""RTO, relapse, downtime and canary checkers on hand-made probe series: window edges, the
stability rule's boundaries, and the exact judgement (name, verdict, measured, claim, unit, evidence)."""

from __future__ import annotations

from core.checkers import Recovery, Sample, canary_samples, judge_rto, measure_recovery
from core.checkers.rto import RECOVERY_STREAK, _falls_again, judge_relapse
from core.verdict import Judgement, Verdict

D = "waste"


def series(*points: tuple[float, bool], domain: str = D) -> list[Sample]:
    return [Sample(t, domain, ok) for t, ok in points]


def down_then_up(fail: list[float], ok: list[float]) -> list[Sample]:
    return series(*[(t, False) for t in fail], *[(t, True) for t in ok])


# ---- measure_recovery ------------------------------------------------------------------------


def test_recovery_record_carries_reference_injection_and_sample_count() -> None:
    samples = down_then_up([6.0], [7.0, 8.0, 9.0]) + series((4.0, True))
    rec = measure_recovery(samples, D, since=5.0, until=20.0, injected=3.0)
    assert rec == Recovery(D, "injection", 5.0, 20.0, 4, 6.0, 7.0, took_effect=True, injected=3.0, relapses=())
    # only samples after the reference instant are counted, not those between injection and it
    assert rec.samples == 4


def test_default_reference_is_injection_and_injected_defaults_to_since() -> None:
    rec = measure_recovery(down_then_up([1.0], [2.0, 3.0, 4.0]), D, since=0.0, until=10.0)
    assert rec.reference == "injection"
    assert rec.injected == 0.0


def test_failure_exactly_at_the_injection_instant_is_the_outage_start() -> None:
    # the probe at t == since failed, and every later probe succeeds: it failed, then came back
    samples = series((5.0, False), (6.0, True), (7.0, True), (8.0, True))
    rec = measure_recovery(samples, D, since=5.0, until=20.0)
    assert rec.took_effect
    assert rec.failed_at == 5.0
    assert rec.recovered_at == 6.0


def test_failure_before_the_injection_still_counts_as_down_at_injection() -> None:
    samples = series((2.0, False), (6.0, True), (7.0, True), (8.0, True))
    rec = measure_recovery(samples, D, since=5.0, until=20.0)
    assert (rec.took_effect, rec.failed_at, rec.recovered_at) == (True, 5.0, 6.0)


def test_probes_at_the_injection_instant_belong_to_before_not_to_the_window() -> None:
    # at t == since a failure then a success: the state at the injection is "ok" and no probe after it fails
    samples = series((5.0, False), (5.0, True), (6.0, True), (7.0, True), (8.0, True))
    rec = measure_recovery(samples, D, since=5.0, until=20.0)
    assert not rec.took_effect
    assert rec.failed_at is None
    assert rec.samples == 3


def test_streak_completed_exactly_at_until_is_a_recovery() -> None:
    rec = measure_recovery(down_then_up([1.0], [2.0, 3.0, 4.0]), D, since=0.0, until=4.0)
    assert rec.recovered_at == 2.0
    assert rec.samples == 4


def test_success_exactly_at_the_reference_instant_starts_the_streak() -> None:
    # injected at 0, failed at 1, RTO measured from 5 (e.g. heal): the probe at 5 is part of the streak
    samples = down_then_up([1.0], [5.0, 6.0, 7.0, 8.0])
    rec = measure_recovery(samples, D, since=5.0, until=20.0, injected=0.0)
    assert rec.recovered_at == 5.0
    assert rec.rto_s == 0.0


def test_default_needs_no_stability_period_after_the_streak() -> None:
    # back at 4.0 just before `until`: with no stable_s that is already a recovery
    samples = down_then_up([1.0], [4.0, 4.2, 4.4])
    rec = measure_recovery(samples, D, since=0.0, until=4.5)
    assert rec.recovered_at == 4.0


def test_stability_period_ending_exactly_at_until_confirms_recovery() -> None:
    samples = down_then_up([0.5], [1.0, 2.0, 3.0])
    rec = measure_recovery(samples, D, since=0.0, until=4.0, stable_s=3.0)
    assert rec.recovered_at == 1.0


def test_stability_period_is_counted_from_the_first_success_of_the_streak() -> None:
    # first success at 1, streak complete at 3; 1 + 2.5 = 3.5 <= 4: confirmed (from 2 it would not be)
    samples = down_then_up([0.5], [1.0, 2.0, 3.0])
    rec = measure_recovery(samples, D, since=0.0, until=4.0, stable_s=2.5)
    assert rec.recovered_at == 1.0


def test_stability_window_is_counted_from_the_first_success_when_spotting_a_relapse() -> None:
    # back at 1-3, down again from 4: 4 is after 1 + 2.5, so it is a new outage, not a relapse of this run
    samples = series(
        (0.5, False),
        (1.0, True),
        (2.0, True),
        (3.0, True),
        (4.0, False),
        (5.0, False),
        (6.0, False),
        (7.0, True),
        (8.0, True),
        (9.0, True),
    )
    rec = measure_recovery(samples, D, since=0.0, until=20.0, stable_s=2.5)
    assert rec.recovered_at == 1.0
    assert rec.relapses == ()


def test_relapse_then_success_before_the_next_outage_streak() -> None:
    samples = series(
        (0.0, False),
        (1.0, True),
        (2.0, True),
        (3.0, True),
        (3.5, True),
        (4.0, False),
        (5.0, False),
        (6.0, False),
        (7.0, True),
        (8.0, True),
        (9.0, True),
    )
    rec = measure_recovery(samples, D, since=0.0, until=20.0, stable_s=5.0)
    assert rec.relapses == (1.0,)
    assert rec.recovered_at == 7.0


# ---- _falls_again ----------------------------------------------------------------------------


def test_relapse_starting_exactly_at_the_stability_deadline_counts() -> None:
    later = series((4.0, False), (5.0, False), (6.0, False))
    assert _falls_again(later, 4.0) == 4.0


def test_relapse_started_in_time_may_finish_after_the_deadline() -> None:
    later = series((4.0, False), (6.0, False), (7.0, False))
    assert _falls_again(later, 5.0) == 4.0


def test_failures_starting_after_the_deadline_are_no_relapse() -> None:
    assert _falls_again(series((6.0, False), (7.0, False), (8.0, False)), 5.0) is None
    assert _falls_again(series((4.0, False), (4.5, True), (6.0, False)), 5.0) is None
    assert RECOVERY_STREAK == 3


# ---- judge_rto -------------------------------------------------------------------------------


def rec(
    samples: int = 5,
    failed_at: float | None = 11.0,
    recovered_at: float | None = 12.0,
    took_effect: bool = True,
    since: float = 10.0,
    until: float = 40.0,
) -> Recovery:
    return Recovery(D, "heal", since, until, samples, failed_at, recovered_at, took_effect, injected=9.0)


def evidence(r: Recovery, **extra: object) -> dict[str, object]:
    return {
        "reference": r.reference,
        "since": r.since,
        "injected": r.injected,
        "failed_at": r.failed_at,
        "recovered_at": r.recovered_at,
        "samples": r.samples,
        "window_s": r.until - r.since,
        "streak": RECOVERY_STREAK,
        **extra,
    }


def test_rto_without_samples_is_inconclusive_with_reason() -> None:
    r = rec(samples=0, failed_at=None, recovered_at=None, took_effect=False)
    assert judge_rto(r, 30.0) == Judgement(
        "rto:waste",
        Verdict.INCONCLUSIVE,
        None,
        30.0,
        "s",
        evidence(r, reason="no probe samples in the observation window"),
    )


def test_rto_with_one_sample_is_judged() -> None:
    r = rec(samples=1, recovered_at=None)
    assert judge_rto(r, 30.0).verdict is Verdict.VIOLATED


def test_rto_not_exercised_is_inconclusive() -> None:
    r = rec(failed_at=None, recovered_at=None, took_effect=False)
    assert judge_rto(r, 30.0, claim="custom") == Judgement(
        "custom",
        Verdict.INCONCLUSIVE,
        "not exercised",
        30.0,
        "s",
        evidence(r, reason="not exercised: the capability never failed after the injection"),
    )


def test_never_recovered_in_a_window_as_long_as_the_claim_is_violated() -> None:
    r = rec(recovered_at=None, since=10.0, until=40.0)
    assert judge_rto(r, 30.0) == Judgement(
        "rto:waste", Verdict.VIOLATED, "not recovered within 30.0 s", 30.0, "s", evidence(r)
    )
    assert judge_rto(r, 30.5).verdict is Verdict.INCONCLUSIVE


def test_window_length_is_until_minus_since() -> None:
    r = rec(recovered_at=None, since=100.0, until=110.0)
    j = judge_rto(r, 30.0)
    assert isinstance(j.evidence, dict)
    assert j.evidence["window_s"] == 10.0
    assert j == Judgement("rto:waste", Verdict.INCONCLUSIVE, "not recovered within 10.0 s", 30.0, "s", evidence(r))


def test_recovered_rto_is_rounded_to_milliseconds() -> None:
    r = rec(recovered_at=10.0 + 1.23456)
    assert judge_rto(r, 30.0) == Judgement("rto:waste", Verdict.HOLDS, 1.235, 30.0, "s", evidence(r))


def test_recovered_after_the_claim_is_violated() -> None:
    r = rec(recovered_at=45.0, until=60.0)
    assert judge_rto(r, 30.0) == Judgement("rto:waste", Verdict.VIOLATED, 35.0, 30.0, "s", evidence(r))


# ---- judge_relapse ---------------------------------------------------------------------------


def test_relapse_judgement_holds_with_full_evidence() -> None:
    r = Recovery(D, "heal", 0.0, 50.0, 9, 1.0, 20.0, True, relapses=(5.0,))
    assert judge_relapse(r) == Judgement(
        "relapse:waste",
        Verdict.HOLDS,
        1,
        1,
        "relapses",
        {"relapses": 1, "came_back_at": [5.0], "recovered_at": 20.0, "allowed": 1},
    )


def test_relapse_judgement_uses_the_given_claim_name_and_limit() -> None:
    r = Recovery(D, "heal", 0.0, 50.0, 9, 1.0, 20.0, True, relapses=(5.0, 9.0))
    assert judge_relapse(r, claim="flap", max_relapses=1) == Judgement(
        "flap",
        Verdict.VIOLATED,
        2,
        1,
        "relapses",
        {"relapses": 2, "came_back_at": [5.0, 9.0], "recovered_at": 20.0, "allowed": 1},
    )


def test_relapse_without_recovery_is_inconclusive_with_reason() -> None:
    r = Recovery(D, "heal", 0.0, 50.0, 9, 1.0, None, True, relapses=(5.0,))
    assert judge_relapse(r, max_relapses=2) == Judgement(
        "relapse:waste",
        Verdict.INCONCLUSIVE,
        1,
        2,
        "relapses",
        {
            "relapses": 1,
            "came_back_at": [5.0],
            "recovered_at": None,
            "allowed": 2,
            "reason": "never recovered (or never failed): no relapse to judge",
        },
    )


# ---- canary_samples --------------------------------------------------------------------------


def test_canary_is_ok_iff_completed_within_the_deadline_inclusive() -> None:
    out = canary_samples({"a": 100.0, "b": 200.0, "c": 300.0}, {"a": 101.0, "b": 210.0, "c": 310.5}, 10.0)
    assert out == [
        Sample(100.0, "pipeline", True, 1.0),
        Sample(200.0, "pipeline", True, 10.0),
        Sample(300.0, "pipeline", False, 10.5),
    ]


def test_pending_canary_whose_deadline_just_passed_is_a_failure() -> None:
    out = canary_samples({"a": 100.0}, {}, 10.0, now=110.0)
    assert out == [Sample(100.0, "pipeline", False, None)]


def test_undecided_canary_is_skipped_but_later_ones_are_kept() -> None:
    out = canary_samples({"late": 105.0, "early": 90.0, "done": 95.0}, {"done": 96.0}, 10.0, domain="x", now=110.0)
    assert out == [Sample(90.0, "x", False, None), Sample(95.0, "x", True, 1.0)]
