"""Make the fake GPT API of one model family fail, hang or slow down, through its control file."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from core.evidence import EffectCheck
from faults.base import Fault, FaultError
from system.fakes.gpt import FAMILIES, MODES, write_control

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTROL_FILE = REPO_ROOT / ".runtime" / "control" / "gpt.json"
ERROR_COUNTERS = {"gpt5": "gpt5_api_errors_total", "gpt4o-mini": "gpt4o_mini_api_errors_total"}


def counter_total(metrics_url: str, name: str) -> float | None:
    """Sum of a counter over all its label sets from a Prometheus text endpoint; None if unreachable."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=3) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
            total += float(line.rsplit(" ", 1)[-1])
    return total


def reset_control(path: Path = CONTROL_FILE) -> None:
    """Every model family healthy (used at session start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for family in sorted(set(FAMILIES.values())):
        write_control(str(path), family, "healthy")


class GptOutage(Fault):
    """Set one model family's mode (error | timeout | slow | off) in the GPT control file."""

    name = "gpt_outage"

    def __init__(
        self,
        family: str = "gpt5",
        mode: str = "error",
        latency_ms: float = 0.0,
        control_file: Path = CONTROL_FILE,
        metrics_url: str | None = None,
    ) -> None:
        if family not in ERROR_COUNTERS:
            raise ValueError(f"family must be one of {sorted(ERROR_COUNTERS)}, not {family!r}")
        if mode not in MODES or mode == "healthy":
            raise ValueError(f"mode must be one of {[m for m in MODES if m != 'healthy']}, not {mode!r}")
        self.family, self.mode, self.latency_ms = family, mode, latency_ms
        self.control_file = Path(control_file)
        self.metrics_url = metrics_url  # worker-ai metrics; None: no error-counter evidence
        self._baseline: float | None = None
        self._injected = False

    def inject(self) -> None:
        """Write the mode atomically (the fake re-reads the file when its mtime changes)."""
        if self.metrics_url:
            self._baseline = counter_total(self.metrics_url, ERROR_COUNTERS[self.family])
        self.control_file.parent.mkdir(parents=True, exist_ok=True)
        self._injected = True
        try:
            write_control(str(self.control_file), self.family, self.mode, self.latency_ms)
        except OSError as exc:
            raise FaultError(f"cannot write GPT control file {self.control_file}: {exc}") from exc

    def heal(self) -> None:
        """Set the family back to healthy."""
        if self._injected:
            write_control(str(self.control_file), self.family, "healthy")

    def _mode_in_file(self) -> str:
        try:
            data = json.loads(self.control_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "unreadable"
        return str(data.get(self.family, {}).get("mode", "healthy"))

    def evidence(self) -> list[EffectCheck]:
        """The control file says the mode; with a metrics URL, the family's error counter grew."""
        mode = self._mode_in_file()
        out = [EffectCheck("control-file", mode == self.mode, f"{self.control_file}: {self.family} mode={mode}")]
        if self.metrics_url and self.mode != "slow":  # a slow answer is still a success
            counter = ERROR_COUNTERS[self.family]
            now = counter_total(self.metrics_url, counter)
            grew = now is not None and now > (self._baseline or 0.0)
            out.append(EffectCheck(f"counter:{counter}", grew, f"{self._baseline} -> {now} at {self.metrics_url}"))
        return out

    def describe(self) -> dict[str, Any]:
        """Family, mode, latency, control file."""
        return {
            "fault": self.name,
            "family": self.family,
            "mode": self.mode,
            "latency_ms": self.latency_ms,
            "control_file": str(self.control_file),
        }
