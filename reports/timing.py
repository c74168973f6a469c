"""Where the run's time went: seconds per phase of every scenario (the record's `phases_s`), so the
next cut of the time to verdict is visible."""

from __future__ import annotations

from dataclasses import dataclass

from reports.html_parts import esc
from reports.runs import LoadedRun
from reports.svg import fmt

# The scenario runner's phases, in order; "inject <fault>" phases fold into "inject".
PHASES = ("steady-state gate", "load warm-up", "inject", "hold", "heal", "recovery", "relapse watch", "drain", "audit")


@dataclass(frozen=True)
class ScenarioTime:
    """One scenario's phases (seconds) and their sum."""

    fid: str
    phases: dict[str, float]

    @property
    def total_s(self) -> float:
        return round(sum(self.phases.values()), 2)


def phase_name(raw: str) -> str:
    """The column a recorded phase belongs to ("inject crash_loop" is "inject"); unknown ones keep their name."""
    return "inject" if raw.startswith("inject") else raw


def times(run: LoadedRun) -> list[ScenarioTime]:
    """Every scenario with a readable record and recorded phases, in run order."""
    out: list[ScenarioTime] = []
    for s in run.scenarios:
        raw = s.record.parameters.get("phases_s") if s.record else None
        if not isinstance(raw, dict):
            continue
        phases: dict[str, float] = {}
        for name, secs in raw.items():
            if name != "done" and isinstance(secs, int | float):
                key = phase_name(str(name))
                phases[key] = round(phases.get(key, 0.0) + float(secs), 2)
        out.append(ScenarioTime(s.fid, phases))
    return out


def columns(ts: list[ScenarioTime]) -> list[str]:
    """The known phases that occur, in order, then any others in the order met."""
    seen = [p for p in PHASES if any(p in t.phases for t in ts)]
    return seen + [p for t in ts for p in t.phases if p not in PHASES and p not in seen]


def totals(ts: list[ScenarioTime]) -> dict[str, float]:
    """Seconds per phase over all scenarios, and the sum under "total"."""
    out = {c: round(sum(t.phases.get(c, 0.0) for t in ts), 1) for c in columns(ts)}
    out["total"] = round(sum(t.total_s for t in ts), 1)
    return out


def summary_line(run: LoadedRun) -> str | None:
    """One line for summary.md: the total and its three largest phases."""
    ts = times(run)
    if not ts:
        return None
    tot = totals(ts)
    biggest = sorted((c for c in tot if c != "total"), key=lambda c: -tot[c])[:3]
    parts = ", ".join(f"{c} {fmt(tot[c])} s" for c in biggest)
    return f"Time in scenarios: {fmt(tot['total'])} s ({parts}; per scenario in report.html)."


def html(run: LoadedRun) -> str:
    """The report's table: a row per scenario, a column per phase, the totals last."""
    ts = times(run)
    if not ts:
        return ""
    cols = columns(ts)
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    rows = "".join(
        f"<tr><td>{esc(t.fid)}</td>"
        + "".join(f"<td>{fmt(t.phases[c]) if c in t.phases else ''}</td>" for c in cols)
        + f"<td><b>{fmt(t.total_s)}</b></td></tr>"
        for t in ts
    )
    tot = totals(ts)
    foot = "".join(f"<td><b>{fmt(tot[c])}</b></td>" for c in cols)
    return (
        "<section><h2>Where the time went</h2><p>Wall-clock seconds per phase of each scenario "
        "(the stack's start and the report are outside them).</p>"
        f"<table><tr><th>scenario</th>{head}<th>total</th></tr>{rows}"
        f"<tr><td><b>all</b></td>{foot}<td><b>{fmt(tot['total'])}</b></td></tr></table></section>"
    )
