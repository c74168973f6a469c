"""Session fixtures: one stack per test session, one run folder, cleanup even on Ctrl-C."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from harness.config import HarnessConfig, from_env
from harness.record import RunRecord, ScenarioEntry, ScenarioRecord, write_run
from harness.verdict import worst



@pytest.fixture(scope="session")
def harness_config() -> HarnessConfig:
    """This session's configuration (env ECOECO_*), with a fresh run id."""
    return from_env()


@pytest.fixture(scope="session")
def stack(harness_config: HarnessConfig) -> Iterator[object]:
    """The compose stack, started once per session and removed at the end (also on failure)."""
    from harness.stack import Stack  # imported here: unit tests need no Docker

    s = Stack(harness_config)
    try:
        s.up()
        yield s
    finally:
        if os.environ.get("ECOECO_KEEP_STACK") != "1":
            s.down()


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
        entries = [ScenarioEntry(r.fid, r.verdict, f"scenarios/{r.fid}.json") for r in self.records]
        write_run(self.config.run_dir, RunRecord(
            run_id=self.config.run_id, started_unix=self.started, time_scale=self.config.time_scale,
            verdict=worst(r.verdict for r in self.records), scenarios=entries, finished_unix=time.time(),
            git_commit=self.commit))
        latest = self.config.runs_dir / "latest"
        if latest.is_symlink() or not latest.exists():
            latest.unlink(missing_ok=True)
            latest.symlink_to(self.config.run_id)


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


@pytest.fixture(scope="session")
def journal(harness_config: HarnessConfig) -> RunJournal:
    """The run's journal (runs/<run_id>/run.json, runs/latest)."""
    harness_config.run_dir.mkdir(parents=True, exist_ok=True)
    return RunJournal(harness_config)
