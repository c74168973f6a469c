"""HTML building blocks shared by the page and its scenario sections: style, badges, cells, evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from core.verdict import Evidence, Verdict
from reports.cells import Cell
from reports.scorecard import LABELS
from reports.svg import fmt

# GitHub-like palette; every verdict is also spelled out, so colour is never the only signal.
CSS = """
:root{--holds:#1a7f37;--holds-bg:#dafbe1;--violated:#cf222e;--violated-bg:#ffebe9;--inconclusive:#9a6700;
--inconclusive-bg:#fff8c5;--harness_error:#8250df;--harness_error-bg:#fbefff;--none:#6e7781;--none-bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:1280px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:0 0 12px}h3{font-size:15px;margin:18px 0 6px}
a{color:#0969da}code{font-size:12px;background:#eff1f3;padding:1px 4px;border-radius:4px}
.top{display:flex;gap:24px;align-items:center;background:#fff;border:1px solid #d0d7de;border-left:14px solid;
border-radius:8px;padding:18px 22px;margin-bottom:18px}
@media(max-width:900px){.top{flex-direction:column;align-items:flex-start}}
.nw{white-space:nowrap}
.big{font-size:40px;font-weight:800;letter-spacing:1px;color:#fff;padding:14px 26px;border-radius:10px;
white-space:nowrap}
.lead{font-size:16px;margin:4px 0 10px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}.meta dt{color:#57606a}.meta dd{margin:0}
.badge{display:inline-block;font-size:12px;font-weight:700;color:#fff;padding:2px 8px;border-radius:12px;
white-space:nowrap;vertical-align:middle}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:18px 0}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
td.ev,.kv td{overflow-wrap:anywhere}
th{background:#f6f8fa;font-weight:600}
td small{display:block;color:#57606a;font-size:11px}
.scroll{overflow-x:auto}.score td.claimtitle{min-width:170px}.score td{min-width:64px}
.score td.notrun{color:#6e7781;font-style:italic}
.kv th{width:190px;font-weight:500;color:#57606a;background:#fff}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media(max-width:900px){.grid2{grid-template-columns:1fr}}
.callout{border-left:5px solid;padding:8px 12px;margin:10px 0;border-radius:4px}
details summary{cursor:pointer;color:#0969da}pre{white-space:pre-wrap;word-break:break-all;font-size:12px;
background:#f6f8fa;padding:8px;border-radius:6px;max-height:420px;overflow:auto}
figure{margin:10px 0 16px}svg.plot{display:block;max-width:100%;height:auto;background:#fff}
ul.effect{margin:4px 0;padding-left:18px}.ok{color:#1a7f37;font-weight:700}.bad{color:#cf222e;font-weight:700}
footer{color:#57606a;font-size:12px;margin-top:30px}
"""
for _v in ("holds", "violated", "inconclusive", "harness_error", "none"):
    CSS += (
        f".v-{_v}{{background:var(--{_v}-bg)}} .b-{_v}{{background:var(--{_v})}} "
        f".top.v-{_v},.callout.v-{_v}{{border-color:var(--{_v});background:#fff}}\n"
    )


def esc(x: object) -> str:
    """HTML-escaped text of anything."""
    return escape(str(x))


def vclass(verdict: Verdict | None) -> str:
    """CSS class suffix of a verdict ('none' for not run / not measured)."""
    return verdict.value if verdict is not None else "none"


def badge(verdict: Verdict | None, label: str | None = None, *, big: bool = False) -> str:
    """A coloured verdict badge."""
    text = label or (LABELS[verdict] if verdict is not None else "NOT RUN")
    return f'<span class="{"big" if big else "badge"} b-{vclass(verdict)}">{esc(text)}</span>'


def cell_td(cell: Cell, extra_class: str = "") -> str:
    """A scorecard cell coloured by its verdict, the explanation as a tooltip."""
    note = f"<small>{esc(cell.note)}</small>" if cell.note else ""
    title = f' title="{esc(cell.detail)}"' if cell.detail else ""
    text = f'<span class="nw">{esc(cell.text)}</span>' if len(cell.text) <= 24 else esc(cell.text)  # "12 s / 30 s"
    return f'<td class="v-{vclass(cell.verdict)} {extra_class}"{title}>{text}{note}</td>'


def when(unix: float | None) -> str:
    """A unix time as 'YYYY-MM-DD HH:MM:SS UTC'."""
    return "—" if unix is None else datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def evidence_html(evidence: Evidence, t0_unix: float) -> str:
    """A one-line gist of the evidence, and the whole of it in a collapsible block when it is long."""
    if isinstance(evidence, str):
        if len(evidence) <= 160:
            return esc(evidence)
        return f"{esc(evidence[:140])}… <details><summary>full evidence</summary><pre>{esc(evidence)}</pre></details>"
    if not evidence:
        return "—"
    text = json.dumps(evidence, indent=2, sort_keys=True, default=str)
    return (
        f"{esc(gist(evidence, t0_unix))}<details><summary>full evidence ({len(text):,} chars)</summary>"
        f"<pre>{esc(text)}</pre></details>"
    )


def gist(ev: dict[str, Any], t0_unix: float) -> str:
    """The most telling part of a checker's evidence, by its shape (docs/record-format.md)."""
    parts: list[str] = []
    for key in ("reason", "note"):
        if isinstance(ev.get(key), str):
            parts.append(ev[key])
    counts = ev.get("counts")
    if isinstance(counts, dict):  # rpo
        parts.append(", ".join(f"{k} {v}" for k, v in counts.items() if v) or "all counts 0")
    domains = ev.get("domains")
    if isinstance(domains, dict):  # isolation
        parts.append(
            ", ".join(
                f"{d} {fmt(100 * v['availability'])} % (n={v.get('samples', '?')})"
                for d, v in sorted(domains.items())
                if isinstance(v, dict) and isinstance(v.get("availability"), int | float)
            )
        )
    if "failed_at" in ev or "recovered_at" in ev:  # rto: unix times, shown relative to the scenario start
        rel = {k: ev.get(k) for k in ("failed_at", "recovered_at")}
        parts.append(
            ", ".join(
                f"{k.replace('_at', '')} at {fmt(v - t0_unix)} s"
                if isinstance(v, int | float)
                else f"{k.replace('_at', '')}: never"
                for k, v in rel.items()
            )
            + f" (from {ev.get('reference', '?')}, {ev.get('samples', '?')} samples)"
        )
    if "duplicated" in ev and not isinstance(counts, dict):
        parts.append(f"duplicated {ev['duplicated']}")
    if not parts:
        parts.append(", ".join(f"{k}={json.dumps(v, default=str)[:40]}" for k, v in list(ev.items())[:3]))
    return "; ".join(p for p in parts if p)
