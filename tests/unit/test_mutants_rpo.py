"""RPO and exactly-once on hand-made audits: the set algebra's edges, the evidence keys and
values, the reasons, and the judgement's claim / claimed / unit."""

from __future__ import annotations

from core.checkers import analyse_rpo, check_rpo
from core.checkers.rpo import RpoAudit, judge_exactly_once, judge_rpo
from core.ledger import Outcome
from core.verdict import Judgement, Verdict


def acked(*ids: str) -> dict[str, Outcome]:
    return dict.fromkeys(ids, "ok")


def head(j: Judgement) -> tuple[str, Verdict, object, object, str]:
    return (j.claim, j.verdict, j.measured, j.claimed, j.unit)


def ev(j: Judgement) -> dict[str, object]:
    assert isinstance(j.evidence, dict)
    return j.evidence


# ---- analyse_rpo -----------------------------------------------------------------------------


def test_one_set_of_held_ids_is_reported_as_place_held() -> None:
    audit = analyse_rpo(acked("a", "b"), {"a": 1}, stuck={"b"})
    assert audit.stuck_in == {"held": frozenset({"b"})}
    assert audit.stuck_acknowledged == {"b"}


def test_zero_attempts_is_not_completed() -> None:
    audit = analyse_rpo(acked("a"), {"a": 0})
    assert audit.lost == {"a"}
    assert audit.duplicated == frozenset()


def test_dead_lettered_ids_of_this_history_are_kept_in_the_audit() -> None:
    out: dict[str, Outcome] = {"a": "ok", "b": "fail"}
    audit = analyse_rpo(out, {}, dead_lettered={"a", "b", "old"})
    assert audit.dead_lettered == {"a", "b"}
    assert audit.dead_lettered_acknowledged == {"a"}
    assert audit.lost == frozenset()


def test_places_holding_no_undelivered_acknowledged_op_are_not_listed() -> None:
    out: dict[str, Outcome] = {"a": "ok", "m": "info", "d": "ok"}
    audit = analyse_rpo(out, {"d": 1}, stuck={"wal": {"a"}, "queue": {"m", "d"}, "outbox": set()})
    assert audit.stuck_in == {"wal": frozenset({"a"})}
    assert audit.stuck == {"a", "m"}


def test_empty_mapping_of_places_holds_nothing() -> None:
    audit = analyse_rpo(acked("a"), {}, stuck={})
    assert audit.stuck == frozenset() and audit.stuck_in == {}
    assert audit.lost == {"a"}


# ---- RpoAudit evidence / resolution ----------------------------------------------------------


def test_evidence_has_counts_samples_and_missing_records() -> None:
    audit = analyse_rpo(acked("a", "b"), {"a": 1, "b": 1}, records={"tasks": {"a"}, "s3": {"a", "b"}})
    e = audit.evidence()
    assert e["counts"]["acknowledged"] == 2
    assert e["samples"]["acknowledged"] == ["a", "b"]
    assert e["missing"] == {"tasks": {"count": 1, "samples": ["b"]}}


def test_resolution_is_three_over_audited_rounded_to_four_places() -> None:
    audit = analyse_rpo(acked(*"abcdefg"), dict.fromkeys("abcdefg", 1))
    assert audit.resolution() == {"audited": 7, "detectable_loss_rate": 0.4286}


# ---- judge_rpo -------------------------------------------------------------------------------


def test_clean_audit_holds_with_default_claim_and_drained_evidence() -> None:
    j = judge_rpo(analyse_rpo(acked("a", "b"), {"a": 1, "b": 1}))
    assert head(j) == ("rpo", Verdict.HOLDS, 0, 0, "ops")
    assert ev(j)["drained"] is True
    assert ev(j)["unknown_share"] == 0.0
    assert "reason" not in ev(j)


def test_not_drained_is_recorded_in_the_evidence() -> None:
    j = judge_rpo(analyse_rpo(acked("a"), {"a": 1}), drained=False, claim="x:rpo")
    assert ev(j)["drained"] is False
    assert j.claim == "x:rpo"


def test_dead_lettered_acknowledged_op_is_a_loss_unless_accepted() -> None:
    audit = analyse_rpo(acked("a", "b"), {"a": 1}, dead_lettered={"b"})
    assert head(judge_rpo(audit)) == ("rpo", Verdict.VIOLATED, 1, 0, "ops")
    assert head(judge_rpo(audit, accept_dead_lettered=True)) == ("rpo", Verdict.HOLDS, 0, 0, "ops")


def test_empty_audit_has_zero_unknown_share_and_no_ack_reason() -> None:
    j = judge_rpo(analyse_rpo({}, {}))
    assert head(j) == ("rpo", Verdict.INCONCLUSIVE, 0, 0, "ops")
    assert ev(j)["unknown_share"] == 0.0
    assert ev(j)["reason"] == "no acknowledged operations: the load did not exercise this claim"


def test_unknown_share_is_rounded_and_above_a_third_is_inconclusive() -> None:
    out: dict[str, Outcome] = {"a": "ok", "b": "ok", "m1": "info", "m2": "info", "m3": "info", "f": "fail"}
    j = judge_rpo(analyse_rpo(out, {"a": 1, "b": 1}))
    assert head(j) == ("rpo", Verdict.INCONCLUSIVE, 0, 0, "ops")
    assert ev(j)["unknown_share"] == 0.5
    assert ev(j)["reason"] == "3 of 6 outcomes unknown (> 33%): too much of the history is out of sight"
    out2: dict[str, Outcome] = {"a": "ok", "b": "ok", "m": "info"}
    j2 = judge_rpo(analyse_rpo(out2, {"a": 1, "b": 1}))
    assert ev(j2)["unknown_share"] == 0.3333
    assert j2.verdict is Verdict.HOLDS


def test_stuck_only_violation_explains_itself() -> None:
    j = judge_rpo(analyse_rpo(acked("a", "b"), {"a": 1}, stuck={"wal": {"b"}}))
    assert head(j) == ("rpo", Verdict.VIOLATED, 1, 0, "ops")
    assert ev(j)["reason"] == "acknowledged operations still held in the system after the drain deadline"


def test_plain_loss_has_no_stuck_reason() -> None:
    j = judge_rpo(analyse_rpo(acked("a", "b"), {"a": 1}))
    assert head(j) == ("rpo", Verdict.VIOLATED, 1, 0, "ops")
    assert "reason" not in ev(j)


def test_unexpected_result_alone_is_violated_without_the_stuck_reason() -> None:
    out: dict[str, Outcome] = {"a": "ok", "x": "fail"}
    j = judge_rpo(analyse_rpo(out, {"a": 1, "x": 1}))
    assert head(j) == ("rpo", Verdict.VIOLATED, 1, 0, "ops")
    assert "reason" not in ev(j)


def test_measured_adds_losses_missing_records_and_unexpected_results() -> None:
    out: dict[str, Outcome] = {"a": "ok", "b": "ok", "c": "ok", "x": "fail"}
    audit = analyse_rpo(out, {"a": 1, "b": 1, "x": 1, "ghost": 1}, records={"tasks": {"b", "c"}})
    # lost: c; missing from tasks: a; unexpected: x, ghost
    assert head(judge_rpo(audit)) == ("rpo", Verdict.VIOLATED, 4, 0, "ops")


# ---- judge_exactly_once ----------------------------------------------------------------------


def test_exactly_once_holds_with_default_claim() -> None:
    j = judge_exactly_once(analyse_rpo(acked("a"), {"a": 1}))
    assert j == Judgement("exactly_once", Verdict.HOLDS, 0, 0, "ops", {"duplicated": 0, "samples": []})


def test_duplicates_and_mismatches_add_up() -> None:
    j = judge_exactly_once(analyse_rpo(acked("a", "b"), {"a": 2, "b": 1}), {"b", "c"}, claim="x")
    assert j == Judgement(
        "x",
        Verdict.VIOLATED,
        3,
        0,
        "ops",
        {"duplicated": 1, "samples": ["a"], "mismatched": {"count": 2, "samples": ["b", "c"]}},
    )


def test_exactly_once_with_nothing_acknowledged_is_inconclusive() -> None:
    j = judge_exactly_once(analyse_rpo({"a": "fail"}, {}))
    assert j == Judgement(
        "exactly_once",
        Verdict.INCONCLUSIVE,
        0,
        0,
        "ops",
        {"duplicated": 0, "samples": [], "reason": "nothing was acknowledged or completed: duplicates could not show"},
    )


def test_exactly_once_counts_recovered_unknowns_as_exercised() -> None:
    none: frozenset[str] = frozenset()
    audit = RpoAudit(
        attempted=frozenset({"m"}),
        acknowledged=none,
        lost=none,
        stuck=none,
        stuck_acknowledged=none,
        dead_lettered=none,
        dead_lettered_acknowledged=none,
        duplicated=none,
        unexpected=none,
        recovered=frozenset({"m"}),
        unknown=none,
    )
    assert judge_exactly_once(audit).verdict is Verdict.HOLDS


# ---- check_rpo -------------------------------------------------------------------------------


def test_unreadable_system_of_record_gives_two_inconclusive_judgements() -> None:
    reason = {"reason": "the system of record could not be read"}
    assert check_rpo(acked("a"), None, prefix="f1:") == [
        Judgement("f1:rpo", Verdict.INCONCLUSIVE, None, 0, "ops", reason),
        Judgement("f1:exactly_once", Verdict.INCONCLUSIVE, None, 0, "ops", reason),
    ]
    assert [j.claim for j in check_rpo(acked("a"), None)] == ["rpo", "exactly_once"]


def test_check_rpo_passes_options_through() -> None:
    rpo, once = check_rpo(
        acked("a", "b"),
        {"a": 1},
        dead_lettered={"b"},
        mismatched={"a"},
        drained=False,
        accept_dead_lettered=True,
        prefix="p:",
    )
    assert head(rpo) == ("p:rpo", Verdict.HOLDS, 0, 0, "ops")
    assert ev(rpo)["drained"] is False
    assert head(once) == ("p:exactly_once", Verdict.VIOLATED, 1, 0, "ops")
    default_rpo, default_once = check_rpo(acked("a"), {"a": 1})
    assert ev(default_rpo)["drained"] is True
    assert (default_rpo.claim, default_once.claim) == ("rpo", "exactly_once")
