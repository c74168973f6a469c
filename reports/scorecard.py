"""One scorecard row per failure point: the record's judgements sorted into the columns people look for."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.claims import Claim, all_claims
from core.verdict import Judgement, Verdict
from reports import cells
from reports.cells import Cell, measured_text
from reports.runs import LoadedRun, LoadedScenario

LABELS = {
    Verdict.HOLDS: "HOLDS",
    Verdict.VIOLATED: "VIOLATED",
    Verdict.INCONCLUSIVE: "INCONCLUSIVE",
    Verdict.HARNESS_ERROR: "HARNESS ERROR",
}


@dataclass(frozen=True)
class Row:
    """A failure point in the scorecard; `scenario` is None when it did not run."""

    claim: Claim
    scenario: LoadedScenario | None
    known_false: str | None
    detected: Cell
    isolated: Cell
    rto: Cell
    rpo: Cell
    exactly_once: Cell
    other: Cell
    catalogued: bool = True  # False: a scenario outside F1-F17 (e.g. a control), with a stand-in claim

    @property
    def verdict(self) -> Verdict | None:
        """The scenario's verdict; None when it did not run."""
        return self.scenario.verdict if self.scenario else None

    @property
    def reason(self) -> str:
        """Why it is not HOLDS, in a phrase ('' when it holds or did not run)."""
        scenario = self.scenario
        if scenario is None or scenario.verdict is Verdict.HOLDS:
            return ""
        if scenario.problem:
            return scenario.problem
        rec = scenario.record
        assert rec is not None
        parts = [f"harness error: {e}" for e in rec.errors[:1]]
        parts += [f"{j.claim} {measured_text(j)}" for j in rec.judgements if j.verdict is scenario.verdict][:2]
        if not rec.effect or not all(e.ok for e in rec.effect):
            parts.append("fault not shown to take effect")
        return "; ".join(parts)

    @property
    def label(self) -> str:
        """Verdict text; a violated claim listed as known false says so, and is still VIOLATED."""
        if self.verdict is None:
            return "NOT RUN"
        text = LABELS[self.verdict]
        return f"{text} (known false)" if self.known_false and self.verdict is Verdict.VIOLATED else text


def rows(run: LoadedRun) -> list[Row]:
    """F1-F17 in order (not-run ones included), then any other scenario the run recorded (e.g. controls).

    A run of only other scenarios (a controls run) gets no F1-F17 rows: seventeen 'not run' lines would bury it.
    """
    claims = list(all_claims())
    by_fid = {c.fid: c for c in claims}
    judged = [s for s in run.scenarios if not s.is_control]  # controls have their own table (reports.detection)
    extra = [s for s in judged if s.fid not in by_fid]
    out = (
        [row(c, run.scenario(c.fid), known_false(run.scenario(c.fid))) for c in claims]
        if len(extra) < len(judged) or not judged
        else []
    )
    for s in extra:
        title = s.record.title if s.record else s.fid
        base = by_fid.get(s.point_fid or "")
        if base is not None:  # a harsher mode, or a control, of one of F1-F17: judged against its claim
            out.append(replace(row(replace(base, fid=s.fid, title=title), s, known_false(s)), catalogued=True))
            continue
        stand_in = Claim(s.fid, title, "—", "—", None, "injection", frozenset(), "—", "general")
        out.append(replace(row(stand_in, s, None), catalogued=False))
    return out


def known_false(scenario: LoadedScenario | None) -> str | None:
    """Why the design's claim is known to be false, for the known-false judgements the record
    shows violated (the record carries its failure point's table); None if none is."""
    rec = scenario.record if scenario else None
    if rec is None:
        return None
    table = rec.parameters.get("known_false") or {}
    reasons = [
        f"{j.claim}: {table[j.claim]}" for j in rec.judgements if j.claim in table and j.verdict is Verdict.VIOLATED
    ]
    return "; ".join(reasons) or None


def row(claim: Claim, scenario: LoadedScenario | None, known_false_reason: str | None) -> Row:
    """Sort one scenario's judgements into the scorecard's columns."""
    if scenario is None or scenario.record is None:
        text = "not run" if scenario is None else "no record"
        empty = Cell(None, text)
        return Row(claim, scenario, known_false_reason, empty, empty, empty, empty, empty, empty)
    kinds: dict[str | None, list[Judgement]] = {}
    for j in scenario.record.judgements:
        kinds.setdefault(cells.classify(j.claim), []).append(j)
    return Row(
        claim,
        scenario,
        known_false_reason,
        detected=cells.detection(kinds.get("detection", []), claim),
        isolated=cells.isolation(kinds.get("isolation", [])),
        rto=cells.rto(kinds.get("rto", []), claim),
        rpo=cells.counted(kinds.get("rpo", []), cells.rpo_breakdown),
        exactly_once=cells.counted(kinds.get("exactly_once", []), None),
        other=cells.other(kinds.get(None, []), scenario),
    )
