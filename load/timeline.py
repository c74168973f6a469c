"""Per-second request and failure counts, appended as JSON lines for the reports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class SecondCounter:
    """Counts requests and failures per (completion second, request name)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[int, str], list[int]] = {}

    def add(self, name: str, failed: bool, at_s: float | None = None) -> None:
        """Count one finished request in the second it finished."""
        key = (int(time.time() if at_s is None else at_s), name)
        counts = self._counts.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += int(failed)

    def drain(self, before_s: int | None = None) -> list[dict[str, Any]]:
        """Remove and return rows of seconds < before_s (all rows if None), oldest first."""
        keys = sorted(k for k in self._counts if before_s is None or k[0] < before_s)
        rows = []
        for t, name in keys:
            requests, failures = self._counts.pop((t, name))
            rows.append({"t": t, "name": name, "requests": requests, "failures": failures})
        return rows


def append_rows(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Append rows as JSON lines in one O_APPEND write (other processes may share the file)."""
    if not rows:
        return
    data = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write to timeline {path}: {written} of {len(data)} bytes")
    finally:
        os.close(fd)


def read_per_second(path: str | Path) -> dict[int, dict[str, int]]:
    """Sum rows of every process into {second: {"requests": n, "failures": n}}."""
    totals: dict[int, dict[str, int]] = {}
    path = Path(path)
    if not path.exists():
        return totals
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            slot = totals.setdefault(row["t"], {"requests": 0, "failures": 0})
            slot["requests"] += row["requests"]
            slot["failures"] += row["failures"]
    return totals
