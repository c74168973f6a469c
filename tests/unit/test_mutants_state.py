"""Last-write-wins checker on hand-made overwrite histories: which invocations count, every key
is checked, and the exact judgement (claim, measured, claimed, unit, evidence) of each branch."""

from __future__ import annotations

from core.checkers.state import judge_last_write
from core.ledger import Op, OpType
from core.verdict import Judgement, Verdict


def op(t: float, kind: OpType, op_id: str, f: str = "profile") -> Op:
    return Op(t, "p", kind, f, op_id)


def judge(ops: list[Op], stored: dict[str, str], **kw: str) -> Judgement:
    key_of = {o.id: o.id.split("~")[0] for o in ops}
    return judge_last_write(ops, "profile", key_of, stored, **kw)


def test_holding_history_gives_the_full_judgement() -> None:
    ops = [op(1, "invoke", "u~1"), op(2, "ok", "u~1"), op(3, "invoke", "v~1"), op(4, "ok", "v~1")]
    assert judge(ops, {"u": "u~1", "v": "v~1"}) == Judgement(
        "last_write", Verdict.HOLDS, 0, 0, "keys", {"keys_checked": 2, "lost_updates": 0, "samples": {}}
    )


def test_lost_update_gives_the_full_judgement_with_stored_values() -> None:
    ops = [
        op(1, "invoke", "u~1"),
        op(2, "ok", "u~1"),
        op(3, "invoke", "u~2"),
        op(4, "ok", "u~2"),
        op(5, "invoke", "v~1"),
        op(6, "ok", "v~1"),
    ]
    assert judge(ops, {"u": "u~1", "v": "v~1"}, claim="lww") == Judgement(
        "lww", Verdict.VIOLATED, 1, 0, "keys", {"keys_checked": 2, "lost_updates": 1, "samples": {"u": "u~1"}}
    )


def test_nothing_acknowledged_is_inconclusive_with_reason() -> None:
    ops = [op(1, "invoke", "u~1"), op(2, "fail", "u~1")]
    assert judge(ops, {}) == Judgement(
        "last_write",
        Verdict.INCONCLUSIVE,
        0,
        0,
        "keys",
        {"keys_checked": 0, "lost_updates": 0, "samples": {}, "reason": "no acknowledged write: nothing to check"},
    )


def test_a_key_without_acknowledged_writes_does_not_stop_the_audit() -> None:
    # "a" is invoked first and never acknowledged; "b" after it lost its update
    ops = [op(1, "invoke", "a~1"), op(2, "fail", "a~1"), op(3, "invoke", "b~1"), op(4, "ok", "b~1")]
    j = judge(ops, {"b": "stale"})
    assert (j.verdict, j.measured) == (Verdict.VIOLATED, 1)
    assert j.evidence == {"keys_checked": 1, "lost_updates": 1, "samples": {"b": "stale"}}


def test_only_invocations_of_known_ids_are_writes() -> None:
    # the completion at t=10 is not an invocation: the order of writes is by invoke time
    ops = [
        op(1, "invoke", "u~1"),
        op(2, "invoke", "u~2"),
        op(3, "ok", "u~2"),
        op(10, "ok", "u~1"),
        op(4, "invoke", "other~1"),
        op(5, "ok", "other~1"),
    ]
    key_of = {"u~1": "u", "u~2": "u"}
    j = judge_last_write(ops, "profile", key_of, {"u": "u~2"})
    assert (j.verdict, j.evidence) == (Verdict.HOLDS, {"keys_checked": 1, "lost_updates": 0, "samples": {}})
    # u~1 was invoked first: reading it back when u~2 (invoked later) was acknowledged is a lost update
    assert judge_last_write(ops, "profile", key_of, {"u": "u~1"}).verdict is Verdict.VIOLATED


def test_other_op_kinds_are_ignored() -> None:
    ops = [op(1, "invoke", "u~1"), op(2, "ok", "u~1"), op(3, "invoke", "u~2", f="login"), op(4, "ok", "u~2", f="login")]
    assert judge(ops, {"u": "u~1"}).verdict is Verdict.HOLDS
