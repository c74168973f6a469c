"""Distributed mode: one master and two workers on 127.0.0.1 writing one ledger."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from core.ledger import read_ledger
from load.driver import LoadRun
from load.timeline import read_per_second
from tests.load.checks import completions_by_id, pids_of, processes_of_run
from tests.load.fake_services import FakeServices


def test_master_and_two_workers_share_one_ledger(fake_services: FakeServices, tmp_path: Path) -> None:
    started = time.monotonic()
    with LoadRun(tmp_path / "out", stop_timeout_s=3) as run:
        out = run.start(
            users=8,
            spawn_rate=8,
            run_time_s=5,
            ledger_path=tmp_path / "ledger.jsonl",
            timeline_path=tmp_path / "timeline.jsonl",
            workers=2,
            base_urls=fake_services.urls,
            wait_s=(0.05, 0.2),
        )
        _master, *workers = run.pids
        assert len(workers) == 2
        run.wait()
    assert time.monotonic() - started < 30
    assert processes_of_run(run.run_id) == []

    ops = [asdict(op) for op in read_ledger(out.ledger)]
    outcomes = completions_by_id(ops)
    assert outcomes and set(outcomes.values()) == {"ok"}  # the fake accepts everything here
    assert pids_of(ops) == set(workers)  # both workers wrote, the master carries no users
    assert len(fake_services.committed["upload"]) > 0
    assert sum(s["requests"] for s in read_per_second(out.timeline).values()) > 20
    assert out.stats_history_csv.exists() and out.json_file.exists()
    assert [log.name for log in out.logs] == ["locust-master.log", "locust-worker-1.log", "locust-worker-2.log"]
    assert all("Traceback" not in log.read_text() for log in out.logs)
