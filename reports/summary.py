"""summary.md: a CI job summary (under ~40 lines): the overall verdict, F1-F17 at a glance, where the HTML is."""

from __future__ import annotations

from core.verdict import Verdict
from reports import detection, repeats, timing
from reports.compare import Comparison
from reports.gate import GateReport, gate
from reports.html_page import tally
from reports.runs import LoadedRun
from reports.scorecard import Row

ICONS = {Verdict.HOLDS: "🟢", Verdict.VIOLATED: "🔴", Verdict.INCONCLUSIVE: "🟡", Verdict.HARNESS_ERROR: "🟣"}
ARROWS = {"better": "⬆ better", "worse": "⬇ worse", "same": "same", "new": "new", "not run": "not run now"}


def markdown(run: LoadedRun, rows: list[Row], comparison: Comparison | None, html_path: str) -> str:
    """The summary text."""
    verdict = run.verdict
    commit = f"`{run.git_commit[:12]}`" if run.git_commit else "unknown"
    scale = "?" if run.time_scale is None else f"{run.time_scale:g}"
    gated = gate(run)
    lines = [
        f"## {ICONS[verdict]} Ecoeco resilience: **{verdict.value.upper().replace('_', ' ')}**",
        "",
        f"{'🔎' if gated.review else ICONS[gated.verdict]} **{gated.headline()}**",
        *_findings(gated),
        "",
        f"Run `{run.run_id}` · commit {commit} · time scale {scale} (design timers × {scale}) · {tally(rows)}",
    ]
    if comparison is not None:
        moved = (
            ", ".join(
                f"{comparison.count(d)} {d}" for d in ("better", "worse", "new", "not run") if comparison.count(d)
            )
            or "no verdict changed"
        )
        lines.append(f"Compared with `{comparison.previous_run_id}` ({comparison.previous_verdict.value}): {moved}")
    lines += [
        *(f"> ⚠ {p}" for p in run.problems[:3]),
        "",
        "| FP | failure | verdict | RTO measured / claimed | RPO ops / claimed | dup | why not holds | vs previous |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.verdict is None:
            lines.append(f"| {r.claim.fid} | {r.claim.title} | ⚪ not run | | | | | |")
            continue
        change = comparison.change(r.claim.fid) if comparison else None
        moved = ARROWS[change.direction] if change else ""
        if change and change.rto_deltas():
            d = max(change.rto_deltas(), key=lambda d: abs(d.change or 0))
            moved += f" (RTO {'+' if (d.change or 0) > 0 else ''}{d.change:g} s)"
        lines.append(
            f"| {r.claim.fid} | {_cell(r.claim.title)} | {ICONS[r.verdict]} {r.label} | {_cell(r.rto.text)} | "
            f"{_cell(r.rpo.text)} | {_cell(r.exactly_once.text.split(' / ')[0])} | {_cell(r.reason[:80])} | "
            f"{moved} |"
        )
    lines += repeats.lines(rows)
    lines += _detection(run)
    spent = timing.summary_line(run)
    lines += ["", *([spent] if spent else []), f"Full report: `{html_path}` (report.json beside it for machines)."]
    return "\n".join(lines) + "\n"


def _findings(g: GateReport) -> list[str]:
    """The findings behind the gate, new first."""
    out = [f"- 🔴 new: {fid} `{claim}`" for fid, claim in g.new]
    out += [
        f"- ⚠ accepted but held: {fid} `{claim}` (delete it from accepted-findings.toml)" for fid, claim, _ in g.stale
    ]
    out += [f"- accepted: {fid} `{claim}`: {_cell(f.reason[:100])}" for fid, claim, f in g.accepted]
    return ["", *out] if out else []


def _detection(run: LoadedRun) -> list[str]:
    """The planted-defect detection score, when the run ran controls."""
    found = detection.score(run)
    if found is None:
        return []
    icon = "🟢" if found.complete else "🔴"
    lines = [
        "",
        f"### {icon} Planted defects caught by the main plans: **{found.caught} of {len(found.results)}**"
        f" ({found.planted} planted in this run)",
        "",
        "| defect | failure point | judgement | caught |",
        "|---|---|---|---|",
    ]
    for r in found.results:
        via = f" (equivalent alone; via {r.covered_by})" if r.covered_by else ""
        mark = {True: "✅ yes", False: "❌ NO", None: "⚪ not run"}[r.caught]
        lines.append(f"| {r.defect}{via} | {r.point or ''} | {r.must_violate or ''} | {mark} |")
    return lines


def _cell(text: str) -> str:
    """Markdown table cell text (a pipe would split the cell)."""
    return text.replace("|", "\\|")
