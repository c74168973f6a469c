"""Read what Chromium rendered: its `--dump-dom` output as a small element tree, and the parts of
the report a reader looks at (scorecard verdicts, the header verdict, the fault window of each plot)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

FAULT_COLOR = "#d4a72c"  # the amber of the fault window (reports/plots.py FAULT)
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """All text below this node, whitespace collapsed."""
        parts: list[str] = []

        def walk(n: Node) -> None:
            for c in n.children:
                if isinstance(c, str):
                    parts.append(c)
                else:
                    walk(c)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self, tag: str | None = None) -> Iterator[Node]:
        """Every element below (depth first), optionally only one tag."""
        for c in self.children:
            if isinstance(c, Node):
                if tag is None or c.tag == tag:
                    yield c
                yield from c.iter(tag)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find(self, tag: str, cls: str | None = None, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.iter(tag)
            if (cls is None or cls in n.classes()) and all(n.attrs.get(k) == v for k, v in attrs.items())
        ]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    b = _Builder()
    b.feed(html)
    b.close()
    return b.root


def header_verdict(doc: Node) -> str:
    """The big verdict badge at the top of the page."""
    (top,) = doc.find("header", "top")
    (big,) = top.find("span", "big")
    return big.text()


def scorecard_verdicts(doc: Node) -> dict[str, str]:
    """Failure point -> the verdict text of its scorecard row (e.g. 'VIOLATED (known false)')."""
    (table,) = doc.find("table", "score")
    out: dict[str, str] = {}
    for tr in table.iter("tr"):
        tds = [c for c in tr.children if isinstance(c, Node) and c.tag == "td"]
        if len(tds) < 2 or "claimtitle" not in tds[0].classes():
            continue
        fid = tds[0].text().split()[0]
        badges = tds[1].find("span", "badge")
        assert len(badges) == 1, f"{fid}: {len(badges)} badges in the verdict cell"
        out[fid] = badges[0].text()
    return out


@dataclass(frozen=True)
class Window:
    plot: str  # the plot's <title>
    start_s: float  # the band's left edge, in the plot's own time axis (read from its tick labels)
    end_s: float
    outlined: bool


def fault_windows(section: Node) -> list[Window]:
    """Each fault-window band drawn in a scenario section's plots, converted back to seconds.

    A band is a rect in the fault colour spanning the plot area's full height (legend swatches and
    ledger bars are not); seconds come from the x-axis tick labels under the plot area, so the
    check does not depend on reports/svg.py's geometry constants.
    """
    out: list[Window] = []
    for svg in section.find("svg", "plot"):
        titles = svg.find("title")
        title = titles[0].text() if titles else "?"
        areas = svg.find("rect", fill="#ffffff", stroke="#8c959f")
        if len(areas) != 1:
            continue
        area = areas[0]
        top, height = float(area.attrs["y"]), float(area.attrs["height"])
        tick_y = top + height + 16
        ticks = sorted(
            (float(t.attrs["x"]), float(t.text()))
            for t in svg.find("text")
            if abs(float(t.attrs.get("y", "-1")) - tick_y) < 0.05 and _is_number(t.text())
        )
        if len(ticks) < 2:
            continue
        (x0, v0), (x1, v1) = ticks[0], ticks[-1]

        def seconds(x: float, x0: float = x0, v0: float = v0, x1: float = x1, v1: float = v1) -> float:
            return v0 + (x - x0) * (v1 - v0) / (x1 - x0)

        for r in svg.find("rect", fill=FAULT_COLOR):
            if abs(float(r.attrs["y"]) - top) < 0.05 and abs(float(r.attrs["height"]) - height) < 0.05:
                x, w = float(r.attrs["x"]), float(r.attrs["width"])
                out.append(Window(title, round(seconds(x), 2), round(seconds(x + w), 2), "stroke" in r.attrs))
    return out


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
