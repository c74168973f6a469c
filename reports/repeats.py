"""What the runs of a repeated failure point (--repeat N) say, for the HTML, the summary and report.json."""

from __future__ import annotations

from typing import Any

from core.record import ScenarioRecord
from core.repeat import confidence
from core.verdict import Verdict
from reports.html_parts import badge, esc
from reports.scorecard import Row


def html(rec: ScenarioRecord) -> str:
    """The section's "Repeated" block: per claim held in k of n, then every run with its file."""
    if not rec.repeats:
        return ""
    cells = ((esc(c.claim), esc(c.text)) for c in confidence(rec.repeats))
    claims = "".join(f"<tr><td><code>{claim}</code></td><td>{text}</td></tr>" for claim, text in cells)
    runs = ", ".join(f'<a href="{esc(r.path)}">run {r.n}</a> {badge(r.verdict)}' for r in rec.repeats)
    stop = " (stopped at the first violation)" if rec.repeats[-1].verdict is Verdict.VIOLATED else ""
    return (
        f"<h3>Repeated: {len(rec.repeats)} runs{stop}</h3>"
        f"<table><tr><th>claim</th><th>over the runs</th></tr>{claims}</table>"
        f"<p>{runs}. This section shows the first of the worst runs.</p>"
    )


def lines(rows: list[Row]) -> list[str]:
    """Summary lines, one per repeated point: its weakest claim over the runs."""
    out = []
    for r in rows:
        rec = r.scenario.record if r.scenario else None
        if rec is None or not rec.repeats:
            continue
        claims = confidence(rec.repeats)
        weakest = min(claims, key=lambda c: (c.held / c.runs if c.runs else 0, c.claim), default=None)
        if weakest is None:
            continue
        if all(c.upper_bound is not None for c in claims):
            n = len(rec.repeats)
            out.append(f"- {r.claim.fid}: every claim held in {n} of {n} runs; P(violation) < 3/{n} at 95 %")
        else:
            out.append(f"- {r.claim.fid}, {len(rec.repeats)} runs: `{weakest.claim}` {weakest.text}")
    return ["", "Repeated failure points (the weakest claim of each):", *out] if out else []


def json_entry(rec: ScenarioRecord | None) -> dict[str, Any] | None:
    """report.json's `repeats` of one scenario, or None when it ran once."""
    if rec is None or not rec.repeats:
        return None
    return {
        "runs": [{"n": r.n, "verdict": r.verdict.value, "path": r.path} for r in rec.repeats],
        "claims": [
            {"claim": c.claim, "held": c.held, "runs": c.runs, "p_violation_below": c.upper_bound, "text": c.text}
            for c in confidence(rec.repeats)
        ],
    }
