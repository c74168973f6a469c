"""The worker WAL, recovery and retry logic on real SQLite files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from system.settings import Settings
from system.workers.recovery import RECOVERED_NOTE, recover_on_startup
from system.workers.stage import ExternalFailure, Stage, run_task
from system.workers.wal import WAL, WAL_FILE_LIMIT_BYTES

SAFE = Settings(time_scale=0.001)
QUEUES = {"image_uploader": "user_input_queue"}


def make_wal(tmp_path: Path) -> WAL:
    return WAL(str(tmp_path / "task_queue.db"))


def test_wal_mode_and_full_sync_are_set(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    mode = sqlite3.connect(wal.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert wal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_the_wal_file_is_cut_back_once_a_checkpoint_lets_it_start_over(tmp_path: Path) -> None:
    # Room kept inside a -wal file after a burst would absorb a full disk (F14) unseen.
    wal = make_wal(tmp_path)
    for i in range(400):  # a burst of big payloads: the -wal grows to megabytes
        wal.begin(f"task-{i:04d}", "image_uploader", {"task_id": f"task-{i:04d}", "blob": "x" * 8192})
    wal_file = Path(wal.path + "-wal")
    assert wal_file.stat().st_size > 1024 * 1024
    wal.checkpoint()
    wal.begin("task-next", "image_uploader", {"task_id": "task-next"})  # the -wal starts over, then is cut
    assert wal_file.stat().st_size <= WAL_FILE_LIMIT_BYTES


def test_completed_row_survives_reopen_and_is_not_redone(tmp_path: Path) -> None:
    calls: list[str] = []

    def work(msg: dict[str, Any]) -> dict[str, Any]:
        calls.append(msg["task_id"])
        return {"x": len(calls)}

    stage = Stage("image_uploader", "user_input_queue", "vision_analysis_queue", work)
    wal = make_wal(tmp_path)
    first = run_task(stage, wal, {"task_id": "task-0001"}, SAFE)
    wal.close()
    wal = make_wal(tmp_path)
    again = run_task(stage, wal, {"task_id": "task-0001"}, SAFE)
    assert first == again and calls == ["task-0001"]


def test_two_deliveries_of_one_task_at_once_do_the_work_once(tmp_path: Path) -> None:
    """After a restart the redelivered message and recovery's republished copy can reach two
    consumers at the same time; the second must recall the first one's output."""
    started = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    def work(msg: dict[str, Any]) -> dict[str, Any]:
        calls.append(msg["task_id"])
        started.set()
        release.wait(5)
        return {"answer": "a"}

    stage = Stage("response_generator", "q", None, work)
    wal = make_wal(tmp_path)
    outputs: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: outputs.append(run_task(stage, wal, {"task_id": "task-1"}, SAFE)))
        for _ in range(2)
    ]
    threads[0].start()
    assert started.wait(5)
    threads[1].start()
    release.set()
    for t in threads:
        t.join(5)
    assert calls == ["task-1"]
    assert len(outputs) == 2 and outputs[0] == outputs[1] and outputs[0]["attempt"]


def test_no_idempotency_defect_redoes_work(tmp_path: Path) -> None:
    calls: list[str] = []

    def work(m: dict[str, Any]) -> dict[str, Any]:
        calls.append(m["task_id"])
        return {}

    stage = Stage("s", "q", None, work)
    wal = make_wal(tmp_path)
    unsafe = Settings(unsafe=frozenset({"no_idempotency"}))
    first = run_task(stage, wal, {"task_id": "task-0001"}, unsafe)
    second = run_task(stage, wal, {"task_id": "task-0001"}, unsafe)
    assert len(calls) == 2 and first["attempt"] != second["attempt"]  # two attempts, as the audit sees them


def _unfinished(wal: WAL, task_id: str, created_at: float) -> None:
    wal.begin(task_id, "image_uploader", {"task_id": task_id, "image_key": f"uploads/{task_id}.png"}, now=created_at)


def test_recovery_republishes_unfinished_and_keeps_them_recoverable(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    _unfinished(wal, "task-old", created_at=0.0)
    _unfinished(wal, "task-new", created_at=9_999.0)
    published: list[tuple[str, dict[str, Any]]] = []
    report = recover_on_startup(wal, SAFE, QUEUES, lambda q, m: published.append((q, m)), now=10_000.0)
    assert report.republished == 2 and report.timed_out == 0
    # Each to its own stage's queue, with the input the WAL kept (what the next delivery works on).
    assert sorted(published, key=lambda p: p[1]["task_id"]) == [
        ("user_input_queue", {"task_id": "task-new", "image_key": "uploads/task-new.png"}),
        ("user_input_queue", {"task_id": "task-old", "image_key": "uploads/task-old.png"}),
    ]
    row = wal.get("task-old", "image_uploader")
    assert row is not None and row.status == "republished" and row.error == RECOVERED_NOTE
    # A second restart republishes them again: a republished message lost again is not lost for good.
    published.clear()
    again = recover_on_startup(wal, SAFE, QUEUES, lambda q, m: published.append((q, m)), now=10_001.0)
    assert again.republished == 2 and sorted(m["task_id"] for _, m in published) == ["task-new", "task-old"]


def test_spec_as_written_drops_old_rows_and_forgets_republished(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    spec = Settings(time_scale=0.001, unsafe=frozenset({"timeout_drop", "republish_once"}))
    _unfinished(wal, "task-old", created_at=0.0)  # older than 1 h x 0.001 = 3.6 s
    _unfinished(wal, "task-new", created_at=9_999.0)
    report = recover_on_startup(wal, spec, QUEUES, lambda q, m: None, now=10_000.0)
    assert (report.republished, report.timed_out) == (1, 1)
    assert recover_on_startup(wal, spec, QUEUES, lambda q, m: None, now=10_001.0).republished == 0


def test_work_the_design_abandons_is_not_counted_as_work_in_hand(tmp_path: Path) -> None:
    """A row republished under republish_once, or out of sync attempts under sync_gives_up, is
    never taken up again: counting it, the as-written system would never be idle again."""
    wal = make_wal(tmp_path)
    _unfinished(wal, "task-rep", created_at=1.0)
    wal.set_status("task-rep", "image_uploader", "republished", RECOVERED_NOTE)
    wal.begin("task-done", "image_uploader", {"task_id": "task-done"}, now=1.0)
    wal.complete("task-done", "image_uploader", {"ok": 1})
    for _ in range(10):
        wal.mark_sync_failed([("task-done", "image_uploader")], "ecoeco_waste down", now=2.0)
    assert wal.pending_count() == 1 and wal.pending_count(include_republished=False) == 0
    assert wal.unsynced_count() == 1 and wal.unsynced_count(give_up_after=10) == 0
    assert wal.unsynced_count(give_up_after=11) == 1


def test_recovery_publish_failure_leaves_row_unfinished(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    _unfinished(wal, "task-1", created_at=1.0)

    def refuse(_q: str, _m: dict[str, Any]) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        recover_on_startup(wal, SAFE, QUEUES, refuse, now=2.0)
    row = wal.get("task-1", "image_uploader")
    assert row is not None and row.status == "running"


def test_retry_queue_backoff_doubles_and_completion_keeps_it_until_forwarded(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    _unfinished(wal, "task-1", created_at=1.0)
    for expected in (0, 1, 2):
        assert wal.schedule_retry("task-1", "image_uploader", "boom", 1.0, 5, now=100.0) == expected
    assert wal.due_retries(now=100.0 + 3.9) == []  # third retry waits 1 x 2^2 = 4 s
    assert wal.due_retries(now=104.0) == [("task-1", "image_uploader", 2)]
    wal.complete("task-1", "image_uploader", {"ok": True})
    assert wal.retry_count() == 1  # the output is not forwarded yet: the entry still owns the task
    wal.drop_retry("task-1", "image_uploader")
    assert wal.retry_count() == 0


class Forwarded:
    """A stand-in Publisher that records what it forwarded, or refuses while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def publish(self, queue: str, body: dict[str, Any]) -> None:
        from system.broker import BrokerUnavailable

        if self.down:
            raise BrokerUnavailable("broker down")
        self.sent.append((queue, body))


def _retrier(wal: WAL, stage: Stage, publisher: Forwarded) -> Any:
    from system.workers.retry import Retrier

    return Retrier({stage.name: stage}, wal, SAFE, publisher, threading.Event())  # type: ignore[arg-type]


def test_retry_that_completed_but_was_not_forwarded_is_forwarded_after_a_restart(tmp_path: Path) -> None:
    calls: list[str] = []

    def work(msg: dict[str, Any]) -> dict[str, Any]:
        calls.append(msg["task_id"])
        return {"image_path": "s3://b/k"}

    stage = Stage("image_uploader", "user_input_queue", "vision_analysis_queue", work)
    wal = make_wal(tmp_path)
    _unfinished(wal, "task-1", created_at=1.0)
    wal.schedule_retry("task-1", "image_uploader", "S3 down", 0.0, 5, now=1.0)
    publisher = Forwarded()
    publisher.down = True  # the worker completes the retry, then cannot forward it (and dies)
    assert _retrier(wal, stage, publisher).retry_due(now=10.0) == 0
    wal.close()
    wal = make_wal(tmp_path)  # restarted
    publisher.down = False
    assert _retrier(wal, stage, publisher).retry_due(now=1e12) == 1
    assert [q for q, _ in publisher.sent] == ["vision_analysis_queue"]
    assert publisher.sent[0][1]["image_path"] == "s3://b/k"
    assert calls == ["task-1"]  # recalled from the WAL, not uploaded twice
    assert wal.retry_count() == 0


def test_one_retry_entry_that_fails_unexpectedly_does_not_wedge_the_others(tmp_path: Path) -> None:
    def work(msg: dict[str, Any]) -> dict[str, Any]:
        if msg["task_id"] == "task-bad":
            raise KeyError("a bug in the stage")
        return {}

    stage = Stage("image_uploader", "user_input_queue", "vision_analysis_queue", work)
    wal = make_wal(tmp_path)
    for task_id, at in (("task-bad", 1.0), ("task-ok", 2.0)):
        _unfinished(wal, task_id, created_at=at)
        wal.schedule_retry(task_id, "image_uploader", "S3 down", 0.0, 5, now=at)
    publisher = Forwarded()
    assert _retrier(wal, stage, publisher).retry_due(now=10.0) == 1  # the good one, behind the bad one
    assert [b["task_id"] for _, b in publisher.sent] == ["task-ok"]
    assert wal.due_retries(now=10.0) == []  # the bad one is pushed back, not dropped
    assert wal.retry_count() == 1


def test_a_finished_stage_keeps_no_bulky_input_and_pruning_keeps_what_is_unsynced(tmp_path: Path) -> None:
    stage = Stage(
        "image_uploader",
        "user_input_queue",
        "vision_analysis_queue",
        lambda m: {"image_path": f"s3://b/{m['task_id']}"},
        bulky=("image_b64",),
    )
    wal = make_wal(tmp_path)
    image = "A" * 200_000
    run_task(stage, wal, {"task_id": "task-1", "image_b64": image, "user_id": 7}, SAFE)
    row = wal.get("task-1", "image_uploader")
    assert row is not None and row.payload == {"task_id": "task-1", "user_id": 7}
    wal.begin("task-2", "image_uploader", {"task_id": "task-2", "image_b64": image})  # in hand: kept whole
    pending = wal.get("task-2", "image_uploader")
    assert pending is not None and pending.payload["image_b64"] == image
    assert wal.prune(finished_before=1e12) == 0  # task-1 is not synced yet
    wal.mark_synced([("task-1", "image_uploader")])
    assert wal.prune(finished_before=0.0) == 0  # younger than the retention
    assert wal.prune(finished_before=1e12) == 1
    assert wal.get("task-1", "image_uploader") is None and wal.get("task-2", "image_uploader") is not None


def test_external_failure_propagates_and_row_stays_unfinished(tmp_path: Path) -> None:
    def fail(_m: dict[str, Any]) -> dict[str, Any]:
        raise ExternalFailure("GPT down")

    wal = make_wal(tmp_path)
    with pytest.raises(ExternalFailure):
        run_task(Stage("gpt5_analyzer", "q", "n", fail), wal, {"task_id": "task-1"}, SAFE)
    assert [r.task_id for r in wal.unfinished()] == ["task-1"]


def test_unsynced_backoff_and_give_up(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    wal.begin("t-1", "s", {"task_id": "t-1"}, now=1.0)
    wal.complete("t-1", "s", {}, now=2.0)
    assert [r.task_id for r in wal.unsynced(10, 2.0, 60.0, 6, 60.0 * 32)] == ["t-1"]
    wal.mark_sync_failed([("t-1", "s")], "db down", now=100.0)
    assert wal.unsynced(10, 100.0 + 59, 60.0, 6, 60.0 * 32) == []  # first wait: 60 s
    assert len(wal.unsynced(10, 100.0 + 60, 60.0, 6, 60.0 * 32)) == 1
    for _ in range(9):
        wal.mark_sync_failed([("t-1", "s")], "db down", now=100.0)
    assert wal.unsynced(10, 100.0 + 60 * 32 - 1, 60.0, 6, 60.0 * 32) == []  # backoff capped at 60 x 2^5
    assert len(wal.unsynced(10, 100.0 + 60 * 32, 60.0, 6, 60.0 * 32)) == 1
    assert wal.unsynced(10, 1e12, 60.0, 5, 300.0, give_up_after=10) == []  # the spec's give-up


def test_the_spec_sync_schedule_gives_up_after_about_51_minutes(tmp_path: Path) -> None:
    """60 s x 2^n for 5 retries, then every 5 minutes, 10 attempts: the last at 3060 s."""
    wal = make_wal(tmp_path)
    wal.begin("t-1", "s", {"task_id": "t-1"}, now=1.0)
    wal.complete("t-1", "s", {}, now=2.0)
    t, attempts = 0.0, list[float]()
    while len(attempts) < 12 and t < 10_000:
        if wal.unsynced(10, t, 60.0, 5, 300.0, give_up_after=10):
            attempts.append(t)
            wal.mark_sync_failed([("t-1", "s")], "db down", now=t)
        t += 10.0
    assert attempts == [0.0, 60.0, 180.0, 420.0, 900.0, 1860.0, 2160.0, 2460.0, 2760.0, 3060.0]


def test_a_row_still_backing_off_does_not_hold_back_later_ones(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    for i in range(5):
        wal.begin(f"old-{i}", "s", {}, now=1.0)
        wal.complete(f"old-{i}", "s", {}, now=2.0 + i)
        wal.mark_sync_failed([(f"old-{i}", "s")], "refused", now=100.0)
    wal.begin("new", "s", {}, now=3.0)
    wal.complete("new", "s", {}, now=50.0)
    assert [r.task_id for r in wal.unsynced(2, 101.0, 60.0, 6, 1920.0)] == ["new"]


def test_concurrent_writers_share_one_wal(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)

    def write(prefix: str) -> None:
        for i in range(50):
            wal.begin(f"{prefix}-{i}", "s", {"task_id": f"{prefix}-{i}"})
            wal.complete(f"{prefix}-{i}", "s", {"i": i})

    threads = [threading.Thread(target=write, args=(p,)) for p in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wal.pending_count() == 0
    assert len(wal.unsynced(1000, 1e12, 1.0, 6, 32.0)) == 200


class FlakyDatabase:
    """A stand-in for system.db.Database whose availability the test switches."""

    def __init__(self) -> None:
        self.up = False
        self.rows: list[tuple[Any, ...]] = []

    def transaction(self) -> Any:
        from contextlib import contextmanager

        from system.db import DatabaseUnavailable

        @contextmanager
        def tx() -> Any:
            if not self.up:
                raise DatabaseUnavailable("ecoeco_waste: connection refused")

            class Cursor:
                def execute(inner, sql: str, params: tuple[Any, ...]) -> None:
                    self.rows.append((sql.split()[2], params[0]))
                    inner.last = sql

                def fetchone(inner) -> tuple[str] | None:
                    return ("x",) if "RETURNING" in inner.last else None

            yield Cursor()

        return tx()


def test_sync_marks_attempts_with_backoff_then_syncs_when_the_database_returns(tmp_path: Path) -> None:
    from system.workers.sync import Syncer

    wal = make_wal(tmp_path)
    wal.begin("t-1", "response_generator", {"task_id": "t-1"}, now=1.0)
    wal.complete("t-1", "response_generator", {"category": "glass", "answer": "a"}, now=2.0)
    db = FlakyDatabase()
    syncer = Syncer(wal, db, SAFE, "worker-ai", "response_generator", threading.Event())  # type: ignore[arg-type]
    assert syncer.sync_once(now=10.0) == 0  # database down: the attempt is counted
    row = wal.get("t-1", "response_generator")
    assert row is not None and (row.sync_status, row.sync_retry_count, row.last_sync_attempt) == ("pending", 1, 10.0)
    db.up = True
    assert syncer.sync_once(now=10.0 + SAFE.scaled(60) - 0.001) == 0  # still backing off (60 s x 2^0, scaled)
    assert syncer.sync_once(now=10.0 + SAFE.scaled(60)) == 1
    row = wal.get("t-1", "response_generator")
    assert row is not None and row.sync_status == "synced"
    assert [t for t, _ in db.rows] == ["task_stages", "results_log", "results"]  # every attempt logged


# F9: a commit count outside the -wal finds what a damaged -wal dropped.
_KILLED_WRITER = """
import os, sys
sys.path.insert(0, sys.argv[2])
from system.workers.wal import WAL
wal = WAL(sys.argv[1])
wal._db.execute("PRAGMA wal_autocheckpoint=0")  # every commit stays in the -wal, as between checkpoints
for i in range(int(sys.argv[3])):
    wal.begin(f"task-{i:04d}", "image_uploader", {"task_id": f"task-{i:04d}"})
os._exit(0)  # killed: no close, no checkpoint
"""


def _killed_after(db: Path, commits: int) -> None:
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[2])
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(db), root, str(commits)], check=True, timeout=60)


def test_a_truncated_wal_is_found_by_the_commit_count(tmp_path: Path) -> None:
    from faults.sqlite_damage import truncate_half

    db = tmp_path / "task_queue.db"
    _killed_after(db, 20)
    truncate_half(Path(f"{db}-wal"))
    Path(f"{db}-shm").unlink(missing_ok=True)
    wal = WAL(str(db))
    assert wal._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # SQLite sees nothing wrong
    kept = len(wal.unfinished())
    assert kept < 20
    assert wal.lost is not None and wal.lost.count == 20 - kept
    assert wal.lost.after <= wal.lost.until
    wal.close()
    # until its rebuild is done a restart finds the loss again, then never
    again = WAL(str(db))
    assert again.lost == wal.lost
    again.clear_loss()
    again.close()
    assert WAL(str(db)).lost is None


def test_an_intact_wal_loses_nothing_and_the_design_as_written_does_not_look(tmp_path: Path) -> None:
    db = tmp_path / "task_queue.db"
    _killed_after(db, 5)
    assert WAL(str(db)).lost is None
    other = tmp_path / "other.db"
    _killed_after(other, 20)
    Path(f"{other}-wal").unlink()  # every commit gone
    Path(f"{other}-shm").unlink(missing_ok=True)
    unchecked = WAL(str(other), count_commits=False)
    assert unchecked.lost is None and not unchecked.unfinished()  # lost silently
    unchecked.close()
    assert WAL(str(other)).lost is not None


def test_missing_stages_are_those_done_downstream_and_found_nowhere() -> None:
    from system.workers.rebuild import missing_stages

    mine = ["image_uploader", "rule_retriever"]
    mirrored = {("a", "gpt5_analyzer"), ("b", "image_uploader"), ("b", "gpt5_analyzer"), ("c", "response_generator")}
    in_wal = {("d", "image_uploader")}
    found = missing_stages(
        mine, ["a", "b", "c", "d", "e"], mirrored, finished={"d"}, in_wal=lambda t, s: (t, s) in in_wal
    )
    # a: analysed downstream, its upload row nowhere; c: answered, so both of ours ran;
    # d: finished, its upload row still in the WAL (the sync will mirror it), its rules row nowhere;
    # b: mirrored; e: no evidence (still in flight: the broker redelivers it)
    assert found == [("a", "image_uploader"), ("c", "image_uploader"), ("c", "rule_retriever"), ("d", "rule_retriever")]
