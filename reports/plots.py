"""The four plots of a scenario section, as inline SVG: load, probes, backlog, ledger."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from html import escape

from core.record import ScenarioRecord, Timeline
from reports.svg import Frame, LegendItem, fmt, nice_ticks

FAULT = "#d4a72c"  # amber band: the fault window
RECOVERED = "#1a7f37"
DRAINED = "#6639ba"
OK, FAILED = "#2da44e", "#cf222e"
# series colours, none equal to the marker colours above
PALETTE = ("#0969da", "#e16f24", "#bf3989", "#0a7e8c", "#9c755f", "#1f3a93", "#7a7a00", "#57606a", "#d63384", "#17becf")
DOMAIN_ORDER = ("waste", "pipeline", "auth", "userinfo", "location", "recycle", "chat")
TIME_AXIS = "time since scenario start (s)"

PHASE_LEGEND = (
    LegendItem("fault window (injected → healed)", FAULT, "box", 0.35),
    LegendItem("recovered", RECOVERED, "dash"),
    LegendItem("drained", DRAINED, "dot"),
)
_DASH = {RECOVERED: "6 4", DRAINED: "2 3"}


def _x_range(rec: ScenarioRecord, series: Sequence[Sequence[float]]) -> tuple[float, float]:
    last = max((p[0] for p in series), default=0.0)
    return 0.0, max(rec.timeline.end_s, last, 1.0)


def _window(frame: Frame, tl: Timeline, *, outline: bool = False) -> None:
    """The fault window: shaded behind the data, or only outlined when drawn over opaque strips."""
    if tl.injected_s is not None:
        end = tl.healed_s if tl.healed_s is not None else frame.x_range[1]
        frame.band(tl.injected_s, end, FAULT, 0.0 if outline else 0.3, outline=outline)


def _phases(frame: Frame, tl: Timeline, *, over_data: bool = False) -> None:
    """Shade the fault window and mark recovery and drain, the same way on every time plot."""
    _window(frame, tl, outline=over_data)
    marks = [
        (t, c, label)
        for t, c, label in ((tl.recovered_s, RECOVERED, "recovered"), (tl.drained_s, DRAINED, "drained"))
        if t is not None
    ]
    for row, (t, color, label) in enumerate(marks):
        frame.vline(t, color, f"{label} {fmt(t)} s", dash=_DASH[color], row=row)


def load_plot(rec: ScenarioRecord) -> str:
    """(a) Requests and failures per second, fault window shaded, recovery and drain marked."""
    points = rec.load.per_second
    top = max((max(p[1], p[2]) for p in points), default=0.0)
    frame = Frame(
        "Offered load: requests and failures per second",
        TIME_AXIS,
        "requests per second (req/s)",
        _x_range(rec, points),
        (0.0, nice_ticks(0, max(top, 1), 5)[-1]),
        (LegendItem("requests/s", PALETTE[0]), LegendItem("failures/s", FAILED), *PHASE_LEGEND),
    )
    _phases(frame, rec.timeline)
    if not points:
        frame.note("no load recorded")
    frame.polyline([(p[0], p[1]) for p in points], PALETTE[0])
    frame.polyline([(p[0], p[2]) for p in points], FAILED, width=2.2)
    return frame.render()


def probe_plot(rec: ScenarioRecord, impact: frozenset[str]) -> str:
    """(b) One strip per domain: green where its probe succeeded, red where it failed, blank without data."""
    domains = sorted(rec.probes, key=lambda d: (DOMAIN_ORDER.index(d) if d in DOMAIN_ORDER else 99, d))
    all_points = [p for d in domains for p in rec.probes[d]]
    rows = max(len(domains), 1)
    frame = Frame(
        "Probe status per domain (* = allowed to fail by the claim)",
        TIME_AXIS,
        "domain",
        _x_range(rec, all_points),
        (0.0, float(rows)),
        (LegendItem("probe ok", OK, "box"), LegendItem("probe failed", FAILED, "box"), *PHASE_LEGEND),
        plot_h=26 * rows + 8,
        left=110,
    )
    _window(frame, rec.timeline)  # visible in the gaps between strips; outlined again on top below
    if not domains:
        frame.note("no probes recorded")
    for i, domain in enumerate(domains):
        y_top, y_bottom = frame.y(rows - i - 0.1), frame.y(rows - i - 0.9)
        for start, end, ok in _runs(rec.probes[domain], frame.x_range[1]):
            x0, x1 = frame.x(start), frame.x(end)
            frame.body.append(
                f'<rect x="{x0:.1f}" y="{y_top:.1f}" width="{max(x1 - x0, 1.5):.1f}" '
                f'height="{y_bottom - y_top:.1f}" fill="{OK if ok else FAILED}"/>'
            )
    _phases(frame, rec.timeline, over_data=True)  # strips hide the shading: outline the window on top
    labels = [(rows - i - 0.5, f"{d}{' *' if d in impact else ''}") for i, d in enumerate(domains)]
    return frame.render(y_tick_labels=labels)


def _runs(points: list[list[float]], end: float) -> list[tuple[float, float, bool]]:
    """Merge consecutive samples of equal status into (start, end, ok) runs; a long silence stays blank."""
    if not points:
        return []
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(points)]
    hold = max(2 * statistics.median(gaps), 1.0) if gaps else 1.0  # how long one sample stands for
    out: list[tuple[float, float, bool]] = []
    for i, (t, ok) in enumerate(points):
        nxt = points[i + 1][0] if i + 1 < len(points) else min(end, t + hold)
        stop = min(nxt, t + hold)
        if out and out[-1][2] == bool(ok) and out[-1][1] >= t - 1e-9:
            out[-1] = (out[-1][0], stop, bool(ok))
        else:
            out.append((t, stop, bool(ok)))
    return out


def backlog_plot(rec: ScenarioRecord) -> str:
    """(c) Queue depths (solid) and WAL pending rows (dashed); series that stayed at 0 are only counted."""
    series = [(f"queue {q}", pts, "") for q, pts in sorted(rec.queue_depth.items())]
    series += [(f"WAL {w}", pts, "6 3") for w, pts in sorted(rec.wal_pending.items())]
    shown = [s for s in series if any(p[1] for p in s[1])]
    flat = len(series) - len(shown)
    legend = [
        LegendItem(name, PALETTE[i % len(PALETTE)], "dash" if dash else "line")
        for i, (name, _, dash) in enumerate(shown)
    ]
    top = max((p[1] for _, pts, _ in shown for p in pts), default=0.0)
    subtitle = f"{flat} of {len(series)} queues/WALs stayed at 0 throughout and are not drawn" if flat else ""
    frame = Frame(
        "Backlog: queue depth and WAL pending rows",
        TIME_AXIS,
        "messages / pending rows (count)",
        _x_range(rec, [p for _, pts, _ in series for p in pts]),
        (0.0, nice_ticks(0, max(top, 1), 5)[-1]),
        (*legend, *PHASE_LEGEND),
        subtitle=subtitle,
    )
    _phases(frame, rec.timeline)
    for i, (_, pts, dash) in enumerate(shown):
        frame.polyline([(p[0], p[1]) for p in pts], PALETTE[i % len(PALETTE)], step=True, dash=dash)
    if not series:
        frame.note("no queue or WAL samples recorded")
    return frame.render()


def ledger_plot(rec: ScenarioRecord) -> str:
    """(d) Per operation kind: how many invocations ended ok, fail, info (unknown) or with no outcome."""
    kinds = sorted(rec.ledger)
    colors = {"ok": OK, "fail": FAILED, "info": FAULT, "no outcome": "#8c959f"}
    rows = max(len(kinds), 1)
    top = max((c.get("invoke", 0) for c in rec.ledger.values()), default=0)
    frame = Frame(
        "Client ledger: outcome of every operation",
        "operations (count)",
        "operation",
        (0.0, nice_ticks(0, max(top * 1.15, 5), 6)[-1]),
        (0.0, float(rows)),
        [LegendItem(f"{k}{' (outcome unknown)' if k == 'info' else ''}", c, "box") for k, c in colors.items()],
        plot_h=30 * rows + 8,
        left=110,
    )
    if not kinds:
        frame.note("no ledger recorded")
    for i, kind in enumerate(kinds):
        counts = rec.ledger[kind]
        parts = [("ok", counts.get("ok", 0)), ("fail", counts.get("fail", 0)), ("info", counts.get("info", 0))]
        parts.append(("no outcome", max(0, counts.get("invoke", 0) - sum(n for _, n in parts))))
        x = 0.0
        y_top, y_bottom = frame.y(rows - i - 0.15), frame.y(rows - i - 0.85)
        for name, n in parts:
            if n:
                x0, x1 = frame.x(x), frame.x(x + n)
                frame.body.append(
                    f'<rect x="{x0:.1f}" y="{y_top:.1f}" width="{x1 - x0:.1f}" '
                    f'height="{y_bottom - y_top:.1f}" fill="{colors[name]}">'
                    f"<title>{escape(kind)} {name}: {n}</title></rect>"
                )
                x += n
        frame.body.append(
            f'<text x="{frame.x(x) + 4:.1f}" y="{(y_top + y_bottom) / 2 + 4:.1f}" font-size="11">'
            f"{counts.get('invoke', 0)} invoked</text>"
        )
    return frame.render(y_tick_labels=[(rows - i - 0.5, k) for i, k in enumerate(kinds)])
