"""The trend over the last runs in runs/: per failure point, its verdict, RTO and detection delay run
by run (oldest first), a sparkline of each, and every verdict change."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.verdict import Judgement, Verdict
from reports.cells import classify, is_alert_delay, number
from reports.html_parts import badge, esc
from reports.runs import LoadedRun, LoadedScenario, earlier_runs, load_run
from reports.svg import fmt, sparkline

RUNS = 10  # this run and the nine before it that share a failure point with it
LETTERS = {Verdict.HOLDS: "H", Verdict.VIOLATED: "V", Verdict.INCONCLUSIVE: "I", Verdict.HARNESS_ERROR: "E"}


@dataclass(frozen=True)
class TrendPoint:
    """One failure point in one run."""

    run_id: str
    verdict: Verdict
    rto_s: float | None  # the slowest capability's recovery
    rto_claimed_s: float | None
    detection_s: float | None  # the slowest alert's delay


def _measure(judgements: tuple[Judgement, ...], picks: Callable[[str], bool]) -> tuple[float | None, float | None]:
    """The largest measured value among the judgements `picks` by name, and what it was claimed against
    (the scorecard's own rules: reports/cells.py)."""
    found = [(m, number(j.claimed)) for j in judgements if picks(j.claim) and (m := number(j.measured)) is not None]
    return max(found, key=lambda f: f[0]) if found else (None, None)


@dataclass(frozen=True)
class Trend:
    """The runs of the history, oldest first, and per failure point of this run one entry per run
    (None: it did not run then), so every row and every sparkline share one x axis."""

    runs: list[str]
    points: dict[str, list[TrendPoint | None]]


def point_of(run_id: str, s: LoadedScenario) -> TrendPoint:
    """What the trend keeps of one scenario."""
    rto, claimed = _measure(s.judgements, lambda name: classify(name) == "rto")
    detection, _ = _measure(s.judgements, is_alert_delay)
    return TrendPoint(run_id, s.verdict, rto, claimed, detection)


def trend(run: LoadedRun) -> Trend:
    """Per failure point of this run, its points in the earlier runs and this one, oldest first."""
    history = [load_run(p, full=False) for p in earlier_runs(run, RUNS - 1)] + [run]
    out: dict[str, list[TrendPoint | None]] = {s.fid: [] for s in run.scenarios if not s.is_control}
    for r in history:
        ran = {s.fid: s for s in r.scenarios}
        for fid, points in out.items():
            points.append(point_of(r.run_id, ran[fid]) if fid in ran else None)
    return Trend([r.run_id for r in history], out)


def changes(points: list[TrendPoint | None]) -> list[str]:
    """Each verdict change between the runs it ran in, e.g. "holds → violated in 20261201-190610"."""
    ran = [p for p in points if p is not None]
    return [
        f"{a.verdict.value} → {b.verdict.value} in {b.run_id}"
        for a, b in itertools.pairwise(ran)
        if a.verdict is not b.verdict
    ]


def html(series: Trend) -> str:
    """The report's "Trend" section (nothing when this is the only run)."""
    runs = len(series.runs)
    if runs < 2 or not series.points:
        return ""
    rows = []
    for fid, points in series.points.items():
        rto = [p.rto_s if p else None for p in points]
        det = [p.detection_s if p else None for p in points]
        claimed = next((p.rto_claimed_s for p in reversed(points) if p and p.rto_claimed_s is not None), None)
        verdicts = "".join(badge(p.verdict, LETTERS[p.verdict]) if p else badge(None, "·") for p in points)
        last = points[-1]
        rows.append(
            f"<tr><td>{esc(fid)}</td><td>{verdicts}</td>"
            f"<td>{sparkline(rto, limit=claimed)} {_seconds(last.rto_s if last else None)}</td>"
            f"<td>{sparkline(det)} {_seconds(last.detection_s if last else None)}</td>"
            f"<td>{esc('; '.join(changes(points)) or 'none')}</td></tr>"
        )
    return (
        f'<section class="card"><h2>Trend over the last {runs} runs</h2>'
        "<p>Oldest first, this run last; one column per run. H holds, V violated, I inconclusive, "
        "E harness error, · not run. RTO: the slowest capability's recovery, the dashed line its claim. "
        "Detection: the slowest alert's delay after injection.</p>"
        "<table><tr><th>FP</th><th>verdicts</th><th>RTO (this run)</th><th>detection (this run)</th>"
        "<th>verdict changes</th></tr>" + "".join(rows) + "</table></section>"
    )


def _seconds(value: float | None) -> str:
    return f'<span style="white-space:nowrap">{fmt(value)} s</span>' if value is not None else "—"


def json_doc(series: Trend) -> dict[str, Any]:
    """report.json's `trend`: the runs oldest first, and per failure point one entry (or null) per run."""

    def entry(p: TrendPoint | None) -> dict[str, Any] | None:
        if p is None:
            return None
        return {
            "verdict": p.verdict.value,
            "rto_s": p.rto_s,
            "rto_claimed_s": p.rto_claimed_s,
            "detection_s": p.detection_s,
        }

    return {"runs": series.runs, "points": {fid: [entry(p) for p in pts] for fid, pts in series.points.items()}}
