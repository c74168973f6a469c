"""Progress lines during long waits: which scenario (n of total), which phase, its time budget,
and an estimate of the time left in the session from the scenarios done so far."""

from __future__ import annotations

import sys
import time

_START = time.monotonic()
_state = {"total": 0, "done": 0, "current": 0, "scenario_started": 0.0, "scenario_time": 0.0}


def set_total(n: int) -> None:
    """How many scenarios this session will run (from pytest's collection)."""
    _state["total"] = n


def scenario_started() -> None:
    """A scenario begins (counted for n/total and the estimate)."""
    now = time.monotonic()
    if _state["scenario_started"]:
        _state["scenario_time"] += now - _state["scenario_started"]
        _state["done"] += 1
    _state["scenario_started"] = now
    _state["current"] += 1


def _left() -> str:
    total, done = int(_state["total"]), int(_state["done"])
    if not total or not done:
        return ""
    per = _state["scenario_time"] / done
    remaining = max(0, total - int(_state["current"]) + 1) * per
    return f", ~{remaining / 60:.0f} min left"


def phase(scenario: str, what: str, up_to_s: float | None = None) -> None:
    """Print one progress line to stderr (pytest -s or the chaos command shows it)."""
    budget = f" (up to {up_to_s:.0f}s)" if up_to_s else ""
    of = f" ({int(_state['current'])}/{int(_state['total'])}{_left()})" if _state["total"] else ""
    print(f"[{time.monotonic() - _START:7.1f}s] {scenario}{of}: {what}{budget}", file=sys.stderr, flush=True)
