"""The claims lint in the report: each question at the design's own scale (as written) beside the
run's time scale (what this run could decide)."""

from __future__ import annotations

from typing import Any

from harness.lint import LintRow
from harness.lint_inputs import run_lint
from reports.html_parts import esc
from reports.svg import fmt

_CLASS = {"ok": "holds", "latent": "inconclusive", "depends": "inconclusive", "undecidable": "violated"}


def pairs(scale: float | None) -> list[tuple[LintRow, LintRow | None]]:
    """(as written, at the run's scale) per question; the second is None when the scale is unknown."""
    written = run_lint(1.0)
    here = run_lint(scale) if scale is not None else [None] * len(written)
    return list(zip(written, here, strict=True))


def to_json(scale: float | None) -> list[dict[str, Any]]:
    """report.json's `lint`."""

    def one(r: LintRow | None) -> dict[str, Any] | None:
        return None if r is None else {"needs_s": list(r.needed_s), "verdict": r.verdict, "text": r.text}

    return [
        {
            "failure_point": w.fid,
            "check": w.check,
            "source": w.source,
            "claimed_s": w.claimed_s,
            "as_written": one(w),
            "this_run": one(h),
        }
        for w, h in pairs(scale)
    ]


def html(scale: float | None) -> str:
    """The lint section of report.html."""

    def cells(r: LintRow | None) -> str:
        if r is None:
            return "<td>—</td><td>—</td>"
        need = fmt(r.needed_s[0]) if r.needed_s[0] == r.needed_s[1] else f"{fmt(r.needed_s[0])}–{fmt(r.needed_s[1])}"
        return f'<td>{esc(need)}</td><td class="v-{_CLASS[r.verdict]}" title="{esc(r.text)}">{esc(r.verdict)}</td>'

    rows = "".join(
        f"<tr><td>{esc(w.fid)}</td><td>{esc(w.check)}</td><td>{esc(w.source)}</td>"
        f"<td>{fmt(w.claimed_s)}</td>{cells(w)}{cells(h)}</tr>"
        for w, h in pairs(scale)
    )
    flagged = [w for w, _ in pairs(scale) if w.verdict == "undecidable" and w.source == "design"]
    lead = "; ".join(f"{w.fid}: {w.text}" for w in flagged) or "no design alert is undecidable as written"
    return (
        "<section><h2>Claims lint: can each claim be decided as specified?</h2>"
        "<p>Before any fault: each alert's window (<code>for:</code>, a rate's range, a scrape and an evaluation) "
        "against the claimed RTO, and each loss-after-a-delay policy against the outage a claim allows, in "
        "seconds. RTO claims are wall-clock; alert windows and timers follow the time scale. "
        f"As written: {esc(lead)}.</p>"
        "<table><tr><th>FP</th><th>check</th><th>rule</th><th>claimed s</th><th>needs s (as written)</th>"
        f"<th>as written</th><th>needs s (scale {esc(fmt(scale) if scale is not None else '?')})</th>"
        f"<th>this run</th></tr>{rows}</table></section>"
    )
