"""Unknown outcomes sent while the serving process was dead: settled as refusals, never as a pass.

A crash loop leaves a client's requests reset by Docker's port proxy while the container is down;
they reached no process, so the RPO audit must not count them as out of sight, and one of them
that completed anyway is unexpected."""

from __future__ import annotations

from core.checkers.rpo import analyse_rpo, judge_rpo
from core.ledger import Op, outcomes_for, unheard
from core.verdict import Verdict
from harness.deaths import death_spans, log_time, until_serving


def _op(t: float, kind: str, i: str, process: str = "u1", f: str = "chat") -> Op:
    return Op(time=t, process=process, type=kind, f=f, id=i)  # type: ignore[arg-type]


DOWN = [(10.0, 12.0)]


def test_only_attempts_wholly_inside_a_death_are_unheard() -> None:
    ops = [
        _op(10.5, "invoke", "inside"), _op(10.6, "info", "inside"),
        _op(9.9, "invoke", "straddles"), _op(10.2, "info", "straddles"),  # in flight at the death
        _op(11.8, "invoke", "outlives"), _op(12.3, "info", "outlives"),  # answered by the new process?
        _op(10.1, "invoke", "never-ended"),  # no completion: no end to bound
        _op(10.2, "invoke", "retried"), _op(10.3, "info", "retried"),
        _op(13.0, "invoke", "retried"), _op(13.1, "info", "retried"),  # its retry reached the new one
        _op(11.0, "invoke", "other-kind", f="upload"), _op(11.1, "info", "other-kind", f="upload"),
        _op(10.4, "invoke", "twice"), _op(10.5, "info", "twice"),
        _op(11.0, "invoke", "twice", process="u2"), _op(11.2, "fail", "twice", process="u2"),
    ]  # fmt: skip
    assert unheard(ops, "chat", DOWN) == {"inside", "twice"}
    assert unheard(ops, "chat", []) == frozenset()
    assert unheard(ops, "upload", DOWN) == {"other-kind"}


def test_an_unheard_unknown_is_a_refusal_and_leaves_the_unknown_share() -> None:
    ops = [_op(1.0, "invoke", "acked"), _op(1.1, "ok", "acked")]
    for n in range(3):
        ops += [_op(10.5, "invoke", f"reset-{n}"), _op(10.6, "info", f"reset-{n}")]
    outcomes = outcomes_for(ops, "chat")
    completed = {"acked": 1}
    blind = analyse_rpo(outcomes, completed)
    assert judge_rpo(blind).verdict is Verdict.INCONCLUSIVE  # 3 of 4 unknown: out of sight
    seen = analyse_rpo(outcomes, completed, unheard=unheard(ops, "chat", DOWN))
    assert seen.unknown == frozenset() and len(seen.unheard) == 3
    assert judge_rpo(seen).verdict is Verdict.HOLDS


def test_an_unheard_write_that_completed_anyway_is_unexpected() -> None:
    ops = [
        _op(1.0, "invoke", "acked"),
        _op(1.1, "ok", "acked"),
        _op(10.5, "invoke", "ghost"),
        _op(10.6, "info", "ghost"),
    ]
    audit = analyse_rpo(outcomes_for(ops, "chat"), {"acked": 1, "ghost": 1}, unheard=unheard(ops, "chat", DOWN))
    assert audit.unexpected == {"ghost"} and audit.recovered == frozenset()
    assert judge_rpo(audit).verdict is Verdict.VIOLATED


def test_death_spans_fold_die_and_start_events() -> None:
    events = [
        (5.0, "start", "chat-llm-api"),  # a start without a death before it: the stack's own start
        (10.0, "die", "chat-llm-api"),
        (10.5, "die", "chat-llm-api"),  # a second death event before the start: the first counts
        (12.0, "start", "chat-llm-api"),
        (20.0, "die", "chat-llm-api"),
        (15.0, "die", "waste-api"),
    ]
    assert death_spans(events, now=30.0) == {
        "chat-llm-api": [(10.0, 12.0), (20.0, 30.0)],
        "waste-api": [(15.0, 30.0)],
    }


def test_a_death_lasts_until_the_service_says_it_serves_again() -> None:
    spans = [(10.0, 12.0), (12.5, 13.0), (20.0, 22.0)]
    serving = [5.0, 14.0, 21.0, 23.5, 30.0]  # 5.0: before any death; 21.0: before its span's start
    # the second death came before the first span's mark: the first keeps its start; the mark
    # 14.0 ends the second; the third ends at the first mark after its start
    assert until_serving(spans, serving) == [(10.0, 12.0), (12.5, 14.0), (20.0, 23.5)]
    assert until_serving(spans, []) == spans  # no marks (not an API): Docker's start ends it


def test_docker_log_timestamps() -> None:
    assert log_time("2026-12-02T07:41:00.5Z") == 1796197260.5
    assert log_time("2026-12-02T07:41:00Z") == 1796197260.0
    assert abs(log_time("2026-12-02T07:41:00.123456789Z") - 1796197260.123456789) < 1e-6
