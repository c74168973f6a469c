"""What changed since the previous run: verdict moves per failure point and measured deltas per claim."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.verdict import Judgement, Verdict, severity
from reports.cells import number
from reports.runs import LoadedRun, fid_order

Direction = Literal["better", "worse", "same", "new", "not run"]


@dataclass(frozen=True)
class Delta:
    """One claim measured in both runs (numbers only), or whose verdict changed."""

    claim: str
    unit: str
    before: float | None
    after: float | None
    verdict_before: Verdict
    verdict_after: Verdict

    @property
    def change(self) -> float | None:
        """after - before, when both are numbers."""
        return None if self.before is None or self.after is None else round(self.after - self.before, 3)


@dataclass(frozen=True)
class ScenarioChange:
    """One failure point across the two runs (None: not run in that run)."""

    fid: str
    before: Verdict | None
    after: Verdict | None
    deltas: list[Delta] = field(default_factory=list)

    @property
    def direction(self) -> Direction:
        """Verdict movement: better / worse / same, or new / not run when only one run has it."""
        if self.before is None:
            return "new"
        if self.after is None:
            return "not run"
        diff = severity(self.after) - severity(self.before)
        return "worse" if diff > 0 else "better" if diff < 0 else "same"

    def rto_deltas(self) -> list[Delta]:
        """Deltas of RTO claims (unit seconds) with a number on both sides."""
        return [d for d in self.deltas if "rto" in d.claim and d.unit == "s" and d.change is not None]


@dataclass(frozen=True)
class Comparison:
    """This run against the previous one."""

    previous_run_id: str
    previous_verdict: Verdict
    changes: list[ScenarioChange]

    def count(self, direction: Direction) -> int:
        """How many failure points moved in this direction."""
        return sum(1 for c in self.changes if c.direction == direction)

    def change(self, fid: str) -> ScenarioChange | None:
        """The change of one failure point, if either run has it."""
        return next((c for c in self.changes if c.fid == fid), None)


def compare(current: LoadedRun, previous: LoadedRun) -> Comparison:
    """Per failure point present in either run: verdicts and the deltas of claims judged in both."""
    fids = sorted({s.fid for s in current.scenarios} | {s.fid for s in previous.scenarios}, key=fid_order)
    changes = []
    for fid in fids:
        now, then = current.scenario(fid), previous.scenario(fid)
        deltas = _deltas(then.judgements if then else (), now.judgements if now else ())
        changes.append(ScenarioChange(fid, then.verdict if then else None, now.verdict if now else None, deltas))
    return Comparison(previous.run_id, previous.verdict, changes)


def _deltas(before: Sequence[Judgement], after: Sequence[Judgement]) -> list[Delta]:
    old = {j.claim: j for j in before}
    out = []
    for j in after:
        o = old.get(j.claim)
        if o is None:
            continue
        d = Delta(j.claim, j.unit, number(o.measured), number(j.measured), o.verdict, j.verdict)
        if d.verdict_before is not d.verdict_after or (d.change is not None and d.change != 0):
            out.append(d)
    return out
