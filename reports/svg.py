"""Small inline-SVG toolkit: a chart frame with axes, ticks, title and legend (no plotting library needed).

Charts use a fixed viewBox and `width="100%"`, so they scale with the page and nothing is cut off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 960
CHAR_W = 6.6  # average glyph width of the 12 px sans-serif font, for layout without a font engine
FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif"'


def fmt(value: float) -> str:
    """A tick or figure label: integers plain, otherwise at most three significant digits."""
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    digits = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 0
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 5 x 10^n steps)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, count - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, t = [], first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: a swatch ('line', 'dash', 'dot', 'box') in a colour, and its label."""

    label: str
    color: str
    kind: str = "line"
    opacity: float = 1.0  # of a box swatch: match what the plot draws


def text(x: float, y: float, s: str, *, size: int = 12, anchor: str = "start", extra: str = "") -> str:
    """An SVG text element (escaped)."""
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" {extra}>{escape(s)}</text>'


@dataclass
class Frame:
    """A chart: title, legend rows, plot area with x/y axes; elements appended to `body`."""

    title: str
    x_label: str
    y_label: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    legend: Sequence[LegendItem] = ()
    plot_h: int = 200
    left: int = 70
    subtitle: str = ""
    body: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.legend_rows = _legend_rows(self.legend, WIDTH - self.left - 20)
        self.legend_y = 42 + (16 if self.subtitle else 0)
        # a band above the plot area for marker labels, so they never sit on top of the data
        self.top = self.legend_y + 20 * len(self.legend_rows) + 28
        self.right = WIDTH - 20
        self.bottom = self.top + self.plot_h
        self.height = self.bottom + 48

    def x(self, v: float) -> float:
        """Data x to SVG x."""
        lo, hi = self.x_range
        return self.left + (v - lo) / ((hi - lo) or 1) * (self.right - self.left)

    def y(self, v: float) -> float:
        """Data y to SVG y."""
        lo, hi = self.y_range
        return self.bottom - (v - lo) / ((hi - lo) or 1) * (self.bottom - self.top)

    def band(self, x0: float, x1: float, color: str, opacity: float = 0.18, outline: bool = False) -> None:
        """A shaded vertical band over the plot area (e.g. the fault window); outlined when drawn over data."""
        a, b = self.x(x0), self.x(x1)
        stroke = f' stroke="{color}" stroke-width="2" stroke-dasharray="4 2"' if outline else ""
        self.body.append(
            f'<rect x="{a:.1f}" y="{self.top}" width="{max(b - a, 2):.1f}" '
            f'height="{self.plot_h}" fill="{color}" fill-opacity="{opacity}"{stroke}/>'
        )

    def vline(self, v: float, color: str, label: str, dash: str = "6 4", row: int = 0) -> None:
        """A vertical marker labelled in the band above the plot (rows staggered so neighbours do not collide)."""
        x = self.x(v)
        self.body.append(
            f'<line x1="{x:.1f}" y1="{self.top - 13 * (1 - row) - 2}" x2="{x:.1f}" y2="{self.bottom}" '
            f'stroke="{color}" stroke-width="1.6" stroke-dasharray="{dash}"/>'
        )
        anchor = "end" if x > self.right - 110 else "start"
        dx = -4 if anchor == "end" else 4
        self.body.append(
            text(
                x + dx,
                self.top - 17 + 13 * row,
                label,
                size=11,
                anchor=anchor,
                extra=f'fill="{color}" font-weight="600"',
            )
        )

    def polyline(
        self,
        points: Sequence[tuple[float, float]],
        color: str,
        *,
        step: bool = False,
        width: float = 1.8,
        dash: str = "",
    ) -> None:
        """A data series as a line (a step line holds each value until the next point)."""
        if not points:
            return
        coords: list[str] = []
        prev_y: float | None = None
        for px, py in points:
            if step and prev_y is not None:
                coords.append(f"{self.x(px):.1f},{self.y(prev_y):.1f}")
            coords.append(f"{self.x(px):.1f},{self.y(py):.1f}")
            prev_y = py
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        self.body.append(
            f'<polyline points="{" ".join(coords)}" fill="none" stroke="{color}" '
            f'stroke-width="{width}" stroke-linejoin="round"{dash_attr}/>'
        )

    def note(self, message: str) -> None:
        """A message in the middle of the plot area (e.g. 'no data recorded')."""
        self.body.append(
            text(
                (self.left + self.right) / 2,
                (self.top + self.bottom) / 2,
                message,
                size=13,
                anchor="middle",
                extra='fill="#57606a" font-style="italic"',
            )
        )

    def render(
        self,
        x_ticks: Sequence[float] | None = None,
        y_ticks: Sequence[float] | None = None,
        y_tick_labels: Sequence[tuple[float, str]] | None = None,
    ) -> str:
        """The whole <svg> element: frame, grid, ticks, axis labels, legend, then the body."""
        out = [text(WIDTH / 2, 20, self.title, size=15, anchor="middle", extra='font-weight="600"')]
        if self.subtitle:
            out.append(text(WIDTH / 2, 38, self.subtitle, size=12, anchor="middle", extra='fill="#57606a"'))
        out += _legend_svg(self.legend_rows, self.left, self.legend_y)
        out.append(
            f'<rect x="{self.left}" y="{self.top}" width="{self.right - self.left}" height="{self.plot_h}" '
            'fill="#ffffff" stroke="#8c959f"/>'
        )
        for t in x_ticks if x_ticks is not None else nice_ticks(*self.x_range):
            if self.x_range[0] <= t <= self.x_range[1]:
                x = self.x(t)
                out.append(f'<line x1="{x:.1f}" y1="{self.top}" x2="{x:.1f}" y2="{self.bottom}" stroke="#eaeef2"/>')
                out.append(text(x, self.bottom + 16, fmt(t), size=11, anchor="middle"))
        labels = (
            y_tick_labels
            if y_tick_labels is not None
            else [(t, fmt(t)) for t in (y_ticks or nice_ticks(*self.y_range, count=5))]
        )
        for v, label in labels:
            if self.y_range[0] <= v <= self.y_range[1]:
                y = self.y(v)
                out.append(f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.right}" y2="{y:.1f}" stroke="#eaeef2"/>')
                out.append(text(self.left - 6, y + 4, label, size=11, anchor="end"))
        out += self.body
        out.append(text((self.left + self.right) / 2, self.bottom + 36, self.x_label, anchor="middle"))
        mid = (self.top + self.bottom) / 2
        out.append(text(16, mid, self.y_label, anchor="middle", extra=f'transform="rotate(-90 16 {mid:.1f})"'))
        return (
            f'<svg class="plot" viewBox="0 0 {WIDTH} {self.height}" width="100%" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" {FONT} preserveAspectRatio="xMidYMid meet">'
            f"<title>{escape(self.title)}</title>" + "".join(out) + "</svg>"
        )


def _legend_rows(items: Sequence[LegendItem], width: float) -> list[list[LegendItem]]:
    rows: list[list[LegendItem]] = []
    used = width + 1
    for item in items:
        w = 34 + len(item.label) * CHAR_W + 18
        if used + w > width:
            rows.append([])
            used = 0
        rows[-1].append(item)
        used += w
    return rows


def _legend_svg(rows: list[list[LegendItem]], x0: float, y0: float) -> list[str]:
    out: list[str] = []
    for r, row in enumerate(rows):
        x, y = x0, y0 + 20 * r
        for item in row:
            if item.kind == "box":
                out.append(
                    f'<rect x="{x:.1f}" y="{y - 9}" width="26" height="12" fill="{item.color}" '
                    f'fill-opacity="{item.opacity}" stroke="#8c959f" stroke-width="0.5"/>'
                )
            else:
                dash = {"dash": ' stroke-dasharray="6 4"', "dot": ' stroke-dasharray="2 3"'}.get(item.kind, "")
                out.append(
                    f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x + 26:.1f}" y2="{y - 3}" stroke="{item.color}" '
                    f'stroke-width="2.5"{dash}/>'
                )
            out.append(text(x + 32, y + 1, item.label, size=12))
            x += 34 + len(item.label) * CHAR_W + 18
    return out


def sparkline(values: Sequence[float | None], *, limit: float | None = None, w: int = 140, h: int = 28) -> str:
    """A word-sized line of `values` in order (None: not measured), with `limit` dashed when given."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    top = max([*known, limit or 0.0]) or 1.0
    step = (w - 4) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return h - 2 - v / top * (h - 4)

    points = " ".join(f"{2 + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values) if v is not None)
    dots = "".join(
        f'<circle cx="{2 + i * step:.1f}" cy="{y(v):.1f}" r="1.8" fill="#0969da"/>'
        for i, v in enumerate(values)
        if v is not None
    )
    bound = (
        f'<line x1="0" y1="{y(limit):.1f}" x2="{w}" y2="{y(limit):.1f}" stroke="#cf222e" stroke-dasharray="3 2"/>'
        if limit is not None
        else ""
    )
    return (
        f'<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">'
        f'{bound}<polyline points="{points}" fill="none" stroke="#0969da" stroke-width="1.4"/>{dots}</svg>'
    )
