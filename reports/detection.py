"""The detection score: planted defects caught by the main suite's own plans, out of all the
defects the system can be built with (scenarios/defects.py). A defect that is equivalent on its
own counts through the combined defect that shows it."""

from __future__ import annotations

from dataclasses import dataclass

from core.point import point_id
from core.verdict import Verdict
from reports.runs import LoadedRun
from scenarios.defects import DEFECTS


@dataclass(frozen=True)
class DefectResult:
    """One planted defect: the control that ran it, the judgement that had to catch it, and whether it did."""

    defect: str
    what: str
    control: str | None  # the control scenario's name; None: not run in this run
    point: str | None
    must_violate: str | None
    verdict: Verdict | None  # that judgement's verdict
    covered_by: str = ""  # equivalent on its own: caught through this combined defect
    why_equivalent: str = ""

    @property
    def caught(self) -> bool | None:
        """True caught, False missed, None not run."""
        return None if self.verdict is None else self.verdict is Verdict.VIOLATED


@dataclass(frozen=True)
class DetectionScore:
    """Every defect's result; `caught` of `planted` (the ones this run exercised)."""

    results: list[DefectResult]

    @property
    def planted(self) -> int:
        return sum(1 for r in self.results if r.caught is not None)

    @property
    def caught(self) -> int:
        return sum(1 for r in self.results if r.caught)

    @property
    def complete(self) -> bool:
        """Every defect the system has was planted and caught."""
        return all(r.caught for r in self.results)


def score(run: LoadedRun) -> DetectionScore | None:
    """The score of a run that ran controls; None for a run without any."""
    ran: dict[str, DefectResult] = {}
    for s in run.scenarios:
        rec = s.record
        if not s.is_control or rec is None:
            continue
        name, must = str(rec.parameters.get("planted_defect")), str(rec.parameters.get("must_violate"))
        verdict = next((j.verdict for j in rec.judgements if j.claim == must), Verdict.INCONCLUSIVE)
        point = rec.parameters.get("point") or {}
        ran[name] = DefectResult(
            name, "", s.fid, point_id(str(point.get("fid")), point.get("mode") or ""), must, verdict
        )
    if not ran:
        return None
    results = []
    for d in DEFECTS:
        via = ran.get(d.covered_by or d.name)
        if via is None:
            results.append(DefectResult(d.name, d.what, None, None, None, None, d.covered_by, d.why_equivalent))
        else:
            results.append(
                DefectResult(
                    d.name,
                    d.what,
                    via.control,
                    via.point,
                    via.must_violate,
                    via.verdict,
                    d.covered_by,
                    d.why_equivalent,
                )
            )
    return DetectionScore(results)
