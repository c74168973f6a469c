"""Real Locust runs (local mode) against the fake services: ledger outcomes, timeline, clean stop."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from core.ledger import read_ledger
from load.driver import LoadError, LoadRun
from load.timeline import read_per_second
from tests.load.checks import completions_by_id, processes_of_run
from tests.load.fake_services import MODES, FakeServices

EXPECTED_TYPE = {"ok": "ok", "refuse": "fail", "reject": "fail", "error": "info", "delay": "info", "reset": "info"}
REQUEST_TIMEOUT_S = 1.0


class MixedPolicy:
    """Each new op id gets the next mode in turn, per function, so that even a short run meets every
    mode (a hash of the id left chat without a single "ok" in 6.5 % of runs: 15 ops, 1 in 6 each);
    an id seen again keeps its mode. Registration mostly succeeds (users need accounts)."""

    REGISTER = ("ok", "ok", "ok", "refuse", "reset")

    def __init__(self) -> None:
        self._given: dict[tuple[str, str], str] = {}
        self._count: Counter[str] = Counter()
        self._lock = threading.Lock()  # the fake services answer from several threads

    def __call__(self, f: str, op_id: str) -> str:
        with self._lock:
            if (f, op_id) not in self._given:
                modes = self.REGISTER if f == "register" else MODES
                self._given[(f, op_id)] = modes[self._count[f] % len(modes)]
                self._count[f] += 1
            return self._given[(f, op_id)]

    def given(self, f: str, op_id: str) -> str:
        """The mode an op got; KeyError when the services never saw it."""
        with self._lock:
            return self._given[(f, op_id)]


def timeline_names(path: Path) -> Counter[str]:
    """Failures per request name over the whole timeline file."""
    failures: Counter[str] = Counter()
    lines = path.read_text().splitlines() if path.exists() else []
    for row in map(json.loads, lines):
        failures[row["name"]] += row["failures"]
    return failures


def await_ledger(path: Path, predicate: str, f: str, timeout_s: float) -> None:
    """Poll the ledger until an op of kind f has type predicate."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(op["f"] == f and op["type"] == predicate for op in [asdict(op) for op in read_ledger(path)]):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {f} op with type {predicate} in {path} within {timeout_s} s")


def test_ledger_records_ok_fail_and_info_per_server_answer(fake_services: FakeServices, tmp_path: Path) -> None:
    mixed_policy = MixedPolicy()
    fake_services.policy = mixed_policy
    fake_services.delay_s = REQUEST_TIMEOUT_S + 0.6
    with LoadRun(tmp_path / "out", stop_timeout_s=3) as run:
        out = run.start(
            users=8,
            spawn_rate=8,
            run_time_s=6,
            ledger_path=tmp_path / "ledger.jsonl",
            timeline_path=tmp_path / "timeline.jsonl",
            base_urls=fake_services.urls,
            request_timeout_s=REQUEST_TIMEOUT_S,
            wait_s=(0.05, 0.2),
        )
        run.wait()
    assert processes_of_run(run.run_id) == []

    ops = [asdict(op) for op in read_ledger(out.ledger)]
    outcomes = completions_by_id(ops)
    for (f, op_id), op_type in outcomes.items():
        assert op_type == EXPECTED_TYPE[mixed_policy.given(f, op_id)], (f, op_id, op_type)
        if op_type == "ok":
            assert op_id in fake_services.committed[f]
        if op_type == "fail":
            assert op_id not in fake_services.committed[f]
    seen = Counter((f, t) for (f, _), t in outcomes.items())
    for f in ("upload", "chat"):
        assert {t for (g, t) in seen if g == f} == {"ok", "fail", "info"}, seen
    assert seen[("register", "ok")] > 0

    # Every domain was exercised.
    assert {service for service, _ in fake_services.hits} == set(fake_services.urls)

    failures = timeline_names(out.timeline)
    assert failures["POST /tasks"] > 0 and failures["GET /sites"] == 0
    per_second = read_per_second(out.timeline)
    assert len(per_second) >= 4 and sum(s["requests"] for s in per_second.values()) > 50

    with out.stats_history_csv.open() as history:
        assert len(list(csv.DictReader(history))) >= 3
    assert out.json_file.exists() and out.stats_csv.exists()
    log = out.logs[0].read_text()
    assert "Traceback" not in log


def test_auth_outage_marks_users_and_refused_uploads_fail(fake_services: FakeServices, tmp_path: Path) -> None:
    fake_services.set_down("auth", True)
    fake_services.set_down("waste", True)
    run = LoadRun(tmp_path / "out", stop_timeout_s=3)
    with run:
        out = run.start(8, 8, 120, tmp_path / "ledger.jsonl", tmp_path / "timeline.jsonl", base_urls=fake_services.urls)
        deadline = time.monotonic() + 10
        while "auth bootstrap" not in timeline_names(out.timeline) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert timeline_names(out.timeline)["auth bootstrap"] > 0
        fake_services.set_down("auth", False)
        await_ledger(out.ledger, "fail", "upload", timeout_s=15)  # users recover their token
        run.check()  # users were marked, not crashed: Locust still runs
        pids = run.pids
        started = time.monotonic()
        run.stop()
        stop_s = time.monotonic() - started
        run.stop()  # idempotent
    assert stop_s < 3 + 5
    assert processes_of_run(run.run_id) == [] and not run.running
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)

    ops = [asdict(op) for op in read_ledger(out.ledger)]
    completions_by_id(ops)
    failed = [op for op in ops if op["type"] == "fail"]
    assert any(op["f"] == "register" and "ConnectionRefusedError" in op["error"] for op in failed)
    assert all(op["error"].startswith("not sent") for op in failed if op["f"] == "upload")
    assert out.stats_csv.exists()  # Locust's graceful SIGTERM path still writes its files
    log = out.logs[0].read_text()
    assert "gave no token" in log and "Traceback" not in log


def test_locust_failing_at_start_raises_with_its_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken_locustfile.py"
    broken.write_text("raise RuntimeError('boom from the locustfile')\n")
    run = LoadRun(tmp_path / "out", locustfile=broken, startup_timeout_s=20)
    with pytest.raises(LoadError, match="before the load started") as caught:
        run.start(1, 1, 5, tmp_path / "ledger.jsonl", tmp_path / "timeline.jsonl")
    assert "boom from the locustfile" in str(caught.value)
    assert processes_of_run(run.run_id) == [] and not run.running
