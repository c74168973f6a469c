"""RPO and exactly-once: Jepsen's total-queue model applied to one op kind.

Every acknowledged op must end up exactly once in the system of record (e.g. one row in
ecoeco_waste.results per task_id). Inputs are the ledger's final outcomes and an audit of
the system taken after the drain: completed ids (counted, so duplicates show), ids still
unfinished in a WAL or queue, and ids in the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, fields
from typing import Any

from harness.ledger import Outcome
from harness.verdict import Judgement, Verdict

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class RpoAudit:
    """The sets of the total-queue analysis (each a frozenset of ids)."""

    attempted: frozenset[str]
    acknowledged: frozenset[str]
    lost: frozenset[str]  # acknowledged, never completed, nowhere in the system any more
    stuck: frozenset[str]  # ok/info, not completed, still unfinished in a WAL or queue
    stuck_acknowledged: frozenset[str]  # the part of `stuck` the system had acknowledged
    dead_lettered: frozenset[str]  # in the dead-letter queue and not completed
    dead_lettered_acknowledged: frozenset[str]
    duplicated: frozenset[str]  # completed more than once
    unexpected: frozenset[str]  # completed but never invoked, or only ever failed
    recovered: frozenset[str]  # outcome unknown (info) and completed: fine, reported

    def counts(self) -> dict[str, int]:
        """Size of every set, keyed by its name."""
        return {name: len(ids) for name, ids in self._sets().items()}

    def evidence(self) -> dict[str, Any]:
        """Counts plus up to SAMPLE_SIZE sorted sample ids of every non-empty set."""
        samples = {name: sorted(ids)[:SAMPLE_SIZE] for name, ids in self._sets().items() if ids}
        return {"counts": self.counts(), "samples": samples}

    def _sets(self) -> dict[str, frozenset[str]]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def analyse_rpo(
    outcomes: Mapping[str, Outcome],
    completed: Mapping[str, int],
    stuck: Set[str] = frozenset(),
    dead_lettered: Set[str] = frozenset(),
) -> RpoAudit:
    """Classify every id of one op kind against the system-of-record audit."""
    done = frozenset(i for i, n in completed.items() if n > 0)
    acked = frozenset(i for i, o in outcomes.items() if o == "ok")
    maybe = frozenset(i for i, o in outcomes.items() if o == "info")
    stuck_ids = (acked | maybe) & frozenset(stuck) - done
    dead_ids = frozenset(dead_lettered) - done
    return RpoAudit(
        attempted=frozenset(outcomes),
        acknowledged=acked,
        lost=acked - done - stuck_ids - dead_ids,
        stuck=stuck_ids,
        stuck_acknowledged=stuck_ids & acked,
        dead_lettered=dead_ids,
        dead_lettered_acknowledged=dead_ids & acked,
        duplicated=frozenset(i for i, n in completed.items() if n > 1),
        unexpected=frozenset(i for i in done if outcomes.get(i, "fail") == "fail"),
        recovered=maybe & done,
    )


def judge_rpo(
    audit: RpoAudit, *, drained: bool = True, accept_dead_lettered: bool = False, claim: str = "rpo"
) -> Judgement:
    """RPO = 0 holds iff nothing acknowledged is lost or stuck and nothing unexpected appeared.

    `drained=False` means the drain deadline has not passed: stuck acknowledged ops are then
    not yet losses and make the verdict INCONCLUSIVE instead of VIOLATED. Dead-lettered
    acknowledged ops count as not delivered unless `accept_dead_lettered` (the data is parked,
    but the user never gets a result without an operator).
    """
    not_delivered = set(audit.lost)
    if drained:  # after the drain deadline a stuck acknowledged op is as good as lost
        not_delivered |= audit.stuck_acknowledged
    if not accept_dead_lettered:
        not_delivered |= audit.dead_lettered_acknowledged
    evidence = audit.evidence()
    evidence["drained"] = drained
    if not_delivered or audit.unexpected:
        verdict = Verdict.VIOLATED
    elif not audit.acknowledged:
        verdict = Verdict.INCONCLUSIVE
        evidence["reason"] = "no acknowledged operations: the load did not exercise this claim"
    elif audit.stuck_acknowledged and not drained:
        verdict = Verdict.INCONCLUSIVE
        evidence["reason"] = "acknowledged operations still in flight before the drain deadline"
    else:
        verdict = Verdict.HOLDS
    measured = len(not_delivered) + len(audit.unexpected)
    return Judgement(claim, verdict, measured, 0, "ops", evidence)


def judge_exactly_once(audit: RpoAudit, *, claim: str = "exactly_once") -> Judgement:
    """Exactly-once holds iff no id completed more than once (INCONCLUSIVE if none completed)."""
    evidence: dict[str, Any] = {
        "duplicated": len(audit.duplicated),
        "samples": sorted(audit.duplicated)[:SAMPLE_SIZE],
    }
    if audit.duplicated:
        verdict = Verdict.VIOLATED
    elif not (audit.acknowledged | audit.recovered):
        verdict = Verdict.INCONCLUSIVE
        evidence["reason"] = "nothing was acknowledged or completed: duplicates could not show"
    else:
        verdict = Verdict.HOLDS
    return Judgement(claim, verdict, len(audit.duplicated), 0, "ops", evidence)


def check_rpo(
    outcomes: Mapping[str, Outcome],
    completed: Mapping[str, int] | None,
    stuck: Set[str] = frozenset(),
    dead_lettered: Set[str] = frozenset(),
    *,
    drained: bool = True,
    accept_dead_lettered: bool = False,
    prefix: str = "",
) -> list[Judgement]:
    """RPO and exactly-once judgements in one call; `completed=None` (audit failed) -> INCONCLUSIVE."""
    if completed is None:
        reason = {"reason": "the system of record could not be read"}
        return [
            Judgement(prefix + "rpo", Verdict.INCONCLUSIVE, None, 0, "ops", reason),
            Judgement(prefix + "exactly_once", Verdict.INCONCLUSIVE, None, 0, "ops", reason),
        ]
    audit = analyse_rpo(outcomes, completed, stuck, dead_lettered)
    return [
        judge_rpo(audit, drained=drained, accept_dead_lettered=accept_dead_lettered, claim=prefix + "rpo"),
        judge_exactly_once(audit, claim=prefix + "exactly_once"),
    ]
