"""RPO and exactly-once: Jepsen's total-queue model applied to one op kind.

Every acknowledged op must end up exactly once in the system of record (e.g. one result in
ecoeco_waste per task_id) and leave every durable trace the system promises (its `tasks` row,
its image in S3). Inputs are the ledger's final outcomes and an audit taken after the drain:
completed ids (with the number of distinct attempts that wrote a result, so work done twice
shows), ids still held somewhere (a WAL, a queue, the outbox), ids in the dead-letter queue,
and the other durable records.

The drain has always ended (done, or its deadline passed) when this is judged: acknowledged
work still held somewhere is stuck, and stuck is not delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field, fields
from typing import Any

from core.ledger import Outcome
from core.verdict import Judgement, Verdict

SAMPLE_SIZE = 10
# Above this share of ops with an unknown outcome (timeouts, resets) the audit has lost sight
# of too much of the history to call a clean result a pass: a system that answered nothing but
# timeouts could lose all of it unseen. A crash of the very API a client talks to leaves a
# quarter of its requests unknown (seen: 15-27% for F1 and F3); a third is the line.
MAX_UNKNOWN_SHARE = 1 / 3
CONFIDENCE_FACTOR = 3.0  # 0 losses in n ops: the loss rate is below ~3/n at 95 % ("rule of three")


@dataclass(frozen=True)
class RpoAudit:
    """The sets of the total-queue analysis (each a frozenset of ids)."""

    attempted: frozenset[str]
    acknowledged: frozenset[str]
    lost: frozenset[str]  # acknowledged, never completed, nowhere in the system any more
    stuck: frozenset[str]  # ok/info, not completed, still held in a WAL, a queue or the outbox
    stuck_acknowledged: frozenset[str]  # the part of `stuck` the system had acknowledged
    dead_lettered: frozenset[str]  # in the dead-letter queue and not completed
    dead_lettered_acknowledged: frozenset[str]
    duplicated: frozenset[str]  # completed by more than one attempt
    unexpected: frozenset[str]  # completed but never invoked, or only ever failed
    recovered: frozenset[str]  # outcome unknown (info) and completed: fine, reported
    unknown: frozenset[str]  # outcome unknown (info) and not completed: out of the audit's sight
    # outcome unknown, but sent only while the serving process was dead (core.ledger.unheard): a
    # refusal, not out of sight; one that completed anyway is unexpected
    unheard: frozenset[str] = frozenset()
    stuck_in: Mapping[str, frozenset[str]] = field(default_factory=dict)  # place -> acknowledged ids held there
    missing: Mapping[str, frozenset[str]] = field(default_factory=dict)  # record -> acknowledged ids not in it

    def counts(self) -> dict[str, int]:
        """Size of every set, keyed by its name."""
        return {name: len(ids) for name, ids in self._sets().items()}

    def evidence(self) -> dict[str, Any]:
        """Counts plus up to SAMPLE_SIZE sorted sample ids of every non-empty set."""
        samples = {name: sorted(ids)[:SAMPLE_SIZE] for name, ids in self._sets().items() if ids}
        out: dict[str, Any] = {"counts": self.counts(), "samples": samples}
        if self.stuck_in:
            out["stuck_in"] = {place: len(ids) for place, ids in sorted(self.stuck_in.items())}
        if any(self.missing.values()):
            out["missing"] = {
                name: {"count": len(ids), "samples": sorted(ids)[:SAMPLE_SIZE]}
                for name, ids in sorted(self.missing.items())
                if ids
            }
        return out

    def resolution(self) -> dict[str, Any]:
        """How small a loss this audit could have seen: n acknowledged ops, loss rate ~3/n at 95 %."""
        n = len(self.acknowledged)
        return {"audited": n, "detectable_loss_rate": round(CONFIDENCE_FACTOR / n, 4) if n else None}

    def _sets(self) -> dict[str, frozenset[str]]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), frozenset)}


def analyse_rpo(
    outcomes: Mapping[str, Outcome],
    completed: Mapping[str, int],
    stuck: Mapping[str, Set[str]] | Set[str] = frozenset(),
    dead_lettered: Set[str] = frozenset(),
    records: Mapping[str, Set[str]] | None = None,
    unheard: Set[str] = frozenset(),
) -> RpoAudit:
    """Classify every id of one op kind against the system-of-record audit.

    `completed`: id -> attempts that wrote a result; `stuck`: place -> ids held there (or one set);
    `records`: name -> ids the system keeps a durable trace of (every acknowledged op must be in each);
    `unheard`: ids sent only while the serving process was dead (an unknown outcome there is a refusal).
    """
    places = {"held": frozenset(stuck)} if isinstance(stuck, Set) else {k: frozenset(v) for k, v in stuck.items()}
    done = frozenset(i for i, n in completed.items() if n > 0)
    acked = frozenset(i for i, o in outcomes.items() if o == "ok")
    refused = frozenset(i for i, o in outcomes.items() if o == "info") & frozenset(unheard)
    maybe = frozenset(i for i, o in outcomes.items() if o == "info") - refused
    held: frozenset[str] = frozenset().union(*places.values())
    stuck_ids = (acked | maybe) & held - done
    dead_ids = frozenset(dead_lettered) & frozenset(outcomes) - done  # the DLQ outlives one history
    return RpoAudit(
        attempted=frozenset(outcomes),
        acknowledged=acked,
        lost=acked - done - stuck_ids - dead_ids,
        stuck=stuck_ids,
        stuck_acknowledged=stuck_ids & acked,
        dead_lettered=dead_ids,
        dead_lettered_acknowledged=dead_ids & acked,
        duplicated=frozenset(i for i, n in completed.items() if n > 1),
        unexpected=frozenset(i for i in done if outcomes.get(i, "fail") == "fail" or i in refused),
        recovered=maybe & done,
        unknown=maybe - done,
        unheard=refused,
        stuck_in={place: ids & acked - done for place, ids in places.items() if ids & acked - done},
        missing={name: acked - frozenset(ids) for name, ids in (records or {}).items()},
    )


def judge_rpo(
    audit: RpoAudit, *, drained: bool = True, accept_dead_lettered: bool = False, claim: str = "rpo"
) -> Judgement:
    """RPO = 0 holds iff every acknowledged op completed and left every durable trace, nothing
    unexpected appeared, and the audit saw enough of the history.

    Acknowledged ops still held somewhere are stuck (the drain has ended: done or out of time);
    dead-lettered ones count as not delivered unless `accept_dead_lettered`. With no acknowledged
    op, or more than MAX_UNKNOWN_SHARE of outcomes unknown, a clean audit is INCONCLUSIVE.
    """
    not_delivered = set(audit.lost) | set(audit.stuck_acknowledged)
    if not accept_dead_lettered:
        not_delivered |= audit.dead_lettered_acknowledged
    missing: frozenset[str] = frozenset().union(*audit.missing.values())
    evidence = audit.evidence()
    evidence["drained"] = drained
    evidence["resolution"] = audit.resolution()
    unknown_share = len(audit.unknown) / len(audit.attempted) if audit.attempted else 0.0
    evidence["unknown_share"] = round(unknown_share, 4)
    if not_delivered or audit.unexpected or missing:
        verdict = Verdict.VIOLATED
        if audit.stuck_acknowledged and not audit.lost:
            evidence["reason"] = "acknowledged operations still held in the system after the drain deadline"
    elif not audit.acknowledged:
        verdict = Verdict.INCONCLUSIVE
        evidence["reason"] = "no acknowledged operations: the load did not exercise this claim"
    elif unknown_share > MAX_UNKNOWN_SHARE:
        verdict = Verdict.INCONCLUSIVE
        evidence["reason"] = (
            f"{len(audit.unknown)} of {len(audit.attempted)} outcomes unknown "
            f"(> {MAX_UNKNOWN_SHARE:.0%}): too much of the history is out of sight"
        )
    else:
        verdict = Verdict.HOLDS
    measured = len(not_delivered | missing) + len(audit.unexpected)
    return Judgement(claim, verdict, measured, 0, "ops", evidence)


def judge_exactly_once(
    audit: RpoAudit, mismatched: Set[str] = frozenset(), *, claim: str = "exactly_once"
) -> Judgement:
    """Exactly-once holds iff no id completed by more than one attempt and every stored result is
    the one its producer recorded (`mismatched`: ids whose stored result differs); INCONCLUSIVE if
    nothing completed."""
    evidence: dict[str, Any] = {
        "duplicated": len(audit.duplicated),
        "samples": sorted(audit.duplicated)[:SAMPLE_SIZE],
    }
    if mismatched:
        evidence["mismatched"] = {"count": len(mismatched), "samples": sorted(mismatched)[:SAMPLE_SIZE]}
    if audit.duplicated or mismatched:
        verdict = Verdict.VIOLATED
    elif not (audit.acknowledged | audit.recovered):
        verdict = Verdict.INCONCLUSIVE
        evidence["reason"] = "nothing was acknowledged or completed: duplicates could not show"
    else:
        verdict = Verdict.HOLDS
    return Judgement(claim, verdict, len(audit.duplicated) + len(mismatched), 0, "ops", evidence)


def check_rpo(
    outcomes: Mapping[str, Outcome],
    completed: Mapping[str, int] | None,
    stuck: Mapping[str, Set[str]] | Set[str] = frozenset(),
    dead_lettered: Set[str] = frozenset(),
    *,
    records: Mapping[str, Set[str]] | None = None,
    mismatched: Set[str] = frozenset(),
    drained: bool = True,
    accept_dead_lettered: bool = False,
    prefix: str = "",
    unheard: Set[str] = frozenset(),
) -> list[Judgement]:
    """RPO and exactly-once judgements in one call; `completed=None` (audit failed) -> INCONCLUSIVE."""
    if completed is None:
        reason = {"reason": "the system of record could not be read"}
        return [
            Judgement(prefix + "rpo", Verdict.INCONCLUSIVE, None, 0, "ops", reason),
            Judgement(prefix + "exactly_once", Verdict.INCONCLUSIVE, None, 0, "ops", reason),
        ]
    audit = analyse_rpo(outcomes, completed, stuck, dead_lettered, records, unheard)
    return [
        judge_rpo(audit, drained=drained, accept_dead_lettered=accept_dead_lettered, claim=prefix + "rpo"),
        judge_exactly_once(audit, mismatched, claim=prefix + "exactly_once"),
    ]
