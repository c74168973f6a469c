"""The run's journal: run.json rewritten after every scenario, and the runs/latest pointer."""

from __future__ import annotations

import subprocess
import time

from core.record import RunRecord, ScenarioEntry, ScenarioRecord, control_outcome, write_run
from core.verdict import worst
from harness.config import HarnessConfig


class RunJournal:
    """Collects scenario records and writes run.json after each one (a crash keeps what ran)."""

    def __init__(self, config: HarnessConfig) -> None:
        self.config = config
        self.started = time.time()
        self.records: list[ScenarioRecord] = []
        self.commit = _git_commit()

    def add(self, record: ScenarioRecord) -> None:
        """Remember a scenario and rewrite run.json."""
        self.records.append(record)
        self.write()

    def write(self) -> None:
        """run.json for what has run so far."""
        entries = [ScenarioEntry(r.fid, r.verdict, f"scenarios/{r.fid}.json", control_outcome(r)) for r in self.records]
        write_run(
            self.config.run_dir,
            RunRecord(
                run_id=self.config.run_id,
                started_unix=self.started,
                time_scale=self.config.time_scale,
                verdict=worst(e.counted for e in entries),
                scenarios=entries,
                finished_unix=time.time(),
                git_commit=self.commit,
                build=self.config.build,
                unsafe=self.config.unsafe,
            ),
        )
        latest = self.config.runs_dir / "latest"
        if latest.is_symlink() or not latest.exists():
            latest.unlink(missing_ok=True)
            latest.symlink_to(self.config.run_id)


def _git_commit() -> str | None:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None
