"""Progress lines during long waits: which scenario, which phase, how long it may take."""

from __future__ import annotations

import sys
import time

_START = time.monotonic()


def phase(scenario: str, what: str, up_to_s: float | None = None) -> None:
    """Print one progress line to stderr (pytest -s or the chaos command shows it)."""
    budget = f" (up to {up_to_s:.0f}s)" if up_to_s else ""
    print(f"[{time.monotonic() - _START:7.1f}s] {scenario}: {what}{budget}", file=sys.stderr, flush=True)
