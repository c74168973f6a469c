"""Last write wins: after a history of overwrites of one value per key (a user's profile), the
stored value must be the last acknowledged write, or a write invoked after it whose outcome is
unknown or also acknowledged. Anything else is a lost (or resurrected) update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.ledger import Op, outcomes
from core.verdict import Judgement, Verdict

SAMPLE_SIZE = 10


def judge_last_write(
    ops: Iterable[Op], f: str, key_of: Mapping[str, str], stored: Mapping[str, str], *, claim: str = "last_write"
) -> Judgement:
    """`ops`: the ledger; `f`: the op kind whose id is also the value written; `key_of`: op id ->
    key (e.g. username); `stored`: key -> the value read back after the drain."""
    op_list = [op for op in ops if op.f == f]
    final = outcomes(op_list)
    invoked: dict[str, list[tuple[float, str]]] = {}
    for op in op_list:
        if op.type == "invoke" and op.id in key_of:
            invoked.setdefault(key_of[op.id], []).append((op.time, op.id))
    lost: list[str] = []
    checked = 0
    for key, writes in invoked.items():
        writes.sort()
        acked = [i for i, (_, op_id) in enumerate(writes) if final.get((f, op_id)) == "ok"]
        if not acked:
            continue  # nothing acknowledged: any value (or none) is consistent
        checked += 1
        allowed = {op_id for _, op_id in writes[acked[-1] :] if final.get((f, op_id)) in ("ok", "info")}
        if stored.get(key) not in allowed:
            lost.append(key)
    evidence: dict[str, Any] = {
        "keys_checked": checked,
        "lost_updates": len(lost),
        "samples": {k: stored.get(k) for k in sorted(lost)[:SAMPLE_SIZE]},
    }
    if lost:
        return Judgement(claim, Verdict.VIOLATED, len(lost), 0, "keys", evidence)
    if not checked:
        evidence["reason"] = "no acknowledged write: nothing to check"
        return Judgement(claim, Verdict.INCONCLUSIVE, 0, 0, "keys", evidence)
    return Judgement(claim, Verdict.HOLDS, 0, 0, "keys", evidence)
