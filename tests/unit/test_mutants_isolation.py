"""Blast-radius checker on hand-made probe series: closed window edges, the sample and
availability thresholds (inclusive), the evidence and the exact judgement."""

from __future__ import annotations

from core.checkers import Sample, check_isolation
from core.verdict import Judgement, Verdict


def probes(domain: str, *oks: bool, start: float = 0.0) -> list[Sample]:
    return [Sample(start + i, domain, ok) for i, ok in enumerate(oks)]


def test_holding_neighbour_gives_the_full_judgement() -> None:
    samples = probes("auth", *[True] * 5) + probes("waste", False, False)
    j = check_isolation(samples, 0.0, 4.0, {"waste"})
    assert j == Judgement(
        "isolation",
        Verdict.HOLDS,
        1.0,
        0.95,
        "availability",
        {
            "window": [0.0, 4.0],
            "allowed": ["waste"],
            "domains": {"auth": {"availability": 1.0, "samples": 5}},
            "violated": [],
            "too_few_samples": [],
            "min_samples": 5,
            "min_failures": 2,
        },
    )


def test_probes_on_both_window_edges_count() -> None:
    # five probes at 0..4 in the window [0, 4]; the edges are inside
    j = check_isolation(probes("auth", *[True] * 5), 0.0, 4.0, set())
    assert j.verdict is Verdict.HOLDS
    assert isinstance(j.evidence, dict)
    assert j.evidence["domains"]["auth"]["samples"] == 5


def test_exactly_min_samples_is_enough_to_judge() -> None:
    j = check_isolation(probes("auth", *[True] * 3), 0.0, 10.0, set(), min_samples=3, claim="iso")
    assert (j.claim, j.verdict) == ("iso", Verdict.HOLDS)
    assert isinstance(j.evidence, dict) and j.evidence["min_samples"] == 3


def test_availability_exactly_at_the_bound_holds() -> None:
    j = check_isolation(probes("auth", True, True, True, True, False), 0.0, 10.0, set(), min_availability=0.8)
    assert (j.verdict, j.measured, j.claimed) == (Verdict.HOLDS, 0.8, 0.8)


def test_violation_measures_the_worst_domain_to_four_places() -> None:
    samples = probes("auth", True, True, False, True, True, False) + probes("chat", *[True] * 6)
    j = check_isolation(samples, 0.0, 10.0, {"waste"}, domains=["auth", "chat"])
    assert j == Judgement(
        "isolation",
        Verdict.VIOLATED,
        0.6667,
        0.95,
        "availability",
        {
            "window": [0.0, 10.0],
            "allowed": ["waste"],
            "domains": {"auth": {"availability": 4 / 6, "samples": 6}, "chat": {"availability": 1.0, "samples": 6}},
            "violated": ["auth"],
            "too_few_samples": [],
            "min_samples": 5,
            "min_failures": 2,
        },
    )


def test_too_few_samples_is_inconclusive_without_a_no_domain_reason() -> None:
    j = check_isolation(probes("auth", True, True), 0.0, 10.0, set(), domains=["auth", "chat"])
    assert j == Judgement(
        "isolation",
        Verdict.INCONCLUSIVE,
        None,
        0.95,
        "availability",
        {
            "window": [0.0, 10.0],
            "allowed": [],
            "domains": {"auth": {"availability": 1.0, "samples": 2}, "chat": {"availability": None, "samples": 0}},
            "violated": [],
            "too_few_samples": ["auth", "chat"],
            "min_samples": 5,
            "min_failures": 2,
        },
    )


def test_nothing_outside_the_allowed_impact_is_inconclusive_with_reason() -> None:
    j = check_isolation(probes("waste", *[False] * 5), 0.0, 10.0, {"waste"})
    assert j == Judgement(
        "isolation",
        Verdict.INCONCLUSIVE,
        None,
        0.95,
        "availability",
        {
            "window": [0.0, 10.0],
            "allowed": ["waste"],
            "domains": {},
            "violated": [],
            "too_few_samples": [],
            "min_samples": 5,
            "min_failures": 2,
            "reason": "no domain outside the allowed impact was probed",
        },
    )


def test_one_failed_probe_alone_does_not_violate_but_two_do() -> None:
    one = probes("pipeline", *[True] * 15, False)  # 15 of 16: under 0.95, one late canary
    j = check_isolation(one, 0.0, 20.0, set())
    assert (j.verdict, j.measured) == (Verdict.HOLDS, 0.9375)
    two = probes("pipeline", *[True] * 14, False, False)
    assert check_isolation(two, 0.0, 20.0, set()).verdict is Verdict.VIOLATED
    assert check_isolation(one, 0.0, 20.0, set(), min_failures=1).verdict is Verdict.VIOLATED
