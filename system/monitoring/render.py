#!/usr/bin/env python3
"""Render the Prometheus config and alert rules for one time scale (stdlib only).

The design's durations (`for: 1m`, `rate(...[5m])`) are production time. The suite runs the
whole system with every timer multiplied by ECOECO_TIME_SCALE, so the monitoring must be
compressed by the same factor, or a 1-minute alert would never fire in a 3-second outage.

Templates use `${name}` or `${name:duration}` placeholders (a duration is a Prometheus
duration such as `90s`, `1m`, `1h30m`); `{{ ... }}` is left alone for Prometheus' own
alert templates:

  ${scrape_interval}      clamp(15s * scale, 1s, 15s)
  ${evaluation_interval}  same as the scrape interval
  ${scrape_timeout}       min(10s, 0.8 * scrape interval)
  ${pg_scrape_interval}   postgres exporters: max(2s, scrape interval) (a database that is down
                          costs the exporter ~1 s of connect timeout before it answers pg_up 0)
  ${pg_scrape_timeout}    min(10s, 0.8 * pg scrape interval)
  ${for:1m}               1m * scale, at least one evaluation interval (and 1 s); ${for:0s} is 0s
  ${range:5m}             range of a rate()/increase(): 5m * scale, at least 4 scrape intervals
  ${backlog:5m}           range over which a backlog that never once drained is a stall: the
                          range, but at least 30 s (the work is not scaled: a sync pass under
                          load on two cores takes seconds of real time, whatever the scale)
  ${seconds:1m}           scaled duration as a plain number of seconds (for comparisons)
  ${scale}                the scale itself

Usage: render.py [--scale S] [--src DIR] [--rules ours|design] --out DIR
(scale defaults to $ECOECO_TIME_SCALE or 1, rules to $ECOECO_ALERT_RULES or ours)
Writes DIR/prometheus.yml, DIR/rules/*.yml and DIR/timing.json. `--rules design` renders the
design document's own rules (rules-design/) instead of this project's (rules/).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

PRODUCTION_SCRAPE_S = 15.0
MIN_SCRAPE_S = 1.0
MIN_PG_SCRAPE_S = 2.0
MAX_SCRAPE_TIMEOUT_S = 10.0
MIN_FOR_S = 1.0
RANGE_MIN_SCRAPES = 4  # a rate() needs two samples; four tolerate a missed scrape
# A backlog gauge that stayed above zero for a whole window means the work fell behind. The work
# runs in real time (only the design's timers are scaled), so the window has a real-time floor:
# at scale 0.02 a 6 s window saw an ordinary 6 s lag of the WAL sync under load as a stall.
BACKLOG_MIN_S = 30.0

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)(?::([^}]*))?\}")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration like `1m30s` (also accepts a bare number of seconds)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def format_duration(seconds: float) -> str:
    """A Prometheus duration string, whole seconds when exact, else whole milliseconds."""
    if seconds <= 0:
        return "0s"
    ms = max(1, round(seconds * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


@dataclass(frozen=True)
class Timing:
    """Every derived interval of one scale, in seconds."""

    scale: float
    scrape_interval_s: float
    evaluation_interval_s: float
    scrape_timeout_s: float
    pg_scrape_interval_s: float
    pg_scrape_timeout_s: float

    @classmethod
    def for_scale(cls, scale: float) -> Timing:
        if not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"time scale must be a positive number, not {scale!r}")
        scrape = min(PRODUCTION_SCRAPE_S, max(MIN_SCRAPE_S, PRODUCTION_SCRAPE_S * scale))
        scrape = round(scrape, 3)
        timeout = round(min(MAX_SCRAPE_TIMEOUT_S, 0.8 * scrape), 3)
        pg = max(MIN_PG_SCRAPE_S, scrape)
        return cls(scale, scrape, scrape, timeout, pg, round(min(MAX_SCRAPE_TIMEOUT_S, 0.8 * pg), 3))

    def for_s(self, production_s: float) -> float:
        """A rule's `for`, scaled, never shorter than one evaluation interval (or 1 s)."""
        if production_s <= 0:
            return 0.0
        return round(max(MIN_FOR_S, self.evaluation_interval_s, production_s * self.scale), 3)

    def range_s(self, production_s: float) -> float:
        """A rate()/increase() range, scaled, never shorter than RANGE_MIN_SCRAPES scrapes."""
        return round(max(RANGE_MIN_SCRAPES * self.scrape_interval_s, production_s * self.scale), 3)

    def backlog_s(self, production_s: float) -> float:
        """A range over which a backlog that never drained counts as a stall: at least BACKLOG_MIN_S."""
        return round(max(BACKLOG_MIN_S, self.range_s(production_s)), 3)

    def seconds(self, production_s: float) -> float:
        return round(production_s * self.scale, 3)


RULE_SETS = {"ours": "rules", "design": "rules-design"}  # rule set -> template folder

_INTERVALS = ("scrape_interval", "evaluation_interval", "scrape_timeout", "pg_scrape_interval", "pg_scrape_timeout")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render_text(template: str, timing: Timing) -> str:
    """Substitute every placeholder; an unknown placeholder is an error, never left in."""

    def sub(m: re.Match[str]) -> str:
        name, arg = m.group(1), m.group(2)
        if name == "scale" and arg is None:
            return _number(timing.scale)
        if name in _INTERVALS and arg is None:
            return format_duration(getattr(timing, f"{name}_s"))
        if name in ("for", "range", "backlog", "seconds") and arg:
            production = parse_duration(arg)
            if name == "for":
                return format_duration(timing.for_s(production))
            if name == "range":
                return format_duration(timing.range_s(production))
            if name == "backlog":
                return format_duration(timing.backlog_s(production))
            return _number(timing.seconds(production))
        raise ValueError(f"unknown placeholder {m.group(0)!r}")

    return _PLACEHOLDER.sub(sub, template)


def default_src() -> Path:
    return Path(__file__).resolve().parent


def render_all(scale: float, out: Path, src: Path | None = None, rules: str = "ours") -> Timing:
    """Render prometheus.yml and one rule set's *.yml from `src` into `out`; returns the timing used."""
    src = src or default_src()
    if rules not in RULE_SETS:
        raise ValueError(f"unknown rule set {rules!r}; known: {', '.join(RULE_SETS)}")
    timing = Timing.for_scale(scale)
    (out / "rules").mkdir(parents=True, exist_ok=True)
    (out / "prometheus.yml").write_text(render_text((src / "prometheus.yml.tmpl").read_text(), timing))
    templates = sorted((src / RULE_SETS[rules]).glob("*.yml.tmpl"))
    if not templates:
        raise FileNotFoundError(f"no rule templates in {src / RULE_SETS[rules]}")
    for tmpl in templates:
        (out / "rules" / tmpl.name.removesuffix(".tmpl")).write_text(render_text(tmpl.read_text(), timing))
    (out / "timing.json").write_text(json.dumps(asdict(timing), indent=2) + "\n")
    return timing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=float(os.environ.get("ECOECO_TIME_SCALE") or 1.0))
    ap.add_argument("--src", type=Path, default=None)
    ap.add_argument("--rules", choices=sorted(RULE_SETS), default=os.environ.get("ECOECO_ALERT_RULES") or "ours")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    timing = render_all(args.scale, args.out, args.src, args.rules)
    print(
        f"rendered for scale {timing.scale}: scrape/eval every {format_duration(timing.scrape_interval_s)}, "
        f"timeout {format_duration(timing.scrape_timeout_s)}, {args.rules} rules -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
