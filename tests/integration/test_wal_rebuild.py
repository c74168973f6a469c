"""F9's rebuild on the real ecoeco_waste: a stage the lost commits completed (a later stage is
mirrored) gets its mirror row back; a task with no evidence downstream, or whose row the WAL
still holds, is left to the broker's redelivery and the sync."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from harness.stack import Stack
from system.db import Database
from system.settings import Settings
from system.workers.rebuild import Rebuilder
from system.workers.wal import WAL, LostCommits

pytestmark = pytest.mark.integration


def test_the_rebuild_writes_the_mirror_rows_of_stages_done_downstream(stack: Stack, tmp_path: Path) -> None:
    dsn = stack.config.dsn("pg-waste")
    run = uuid.uuid4().hex[:8]
    done, in_flight, kept = (f"rebuild-{run}-{k}" for k in ("done", "in-flight", "kept"))
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for task in (done, in_flight, kept):
            cur.execute(
                "INSERT INTO tasks (task_id, user_id, image_sha256, image_bytes) VALUES (%s, 1, 'x', 1)", (task,)
            )
        for task in (done, kept):
            cur.execute(
                "INSERT INTO task_stages (task_id, task_name, status, worker) VALUES (%s, 'gpt5_analyzer', "
                "'completed', 'worker-ai')",
                (task,),
            )
    wal = WAL(str(tmp_path / "task_queue.db"))
    wal.begin(kept, "image_uploader", {"task_id": kept})
    wal.complete(kept, "image_uploader", {"task_id": kept})
    now = time.time()
    rebuilder = Rebuilder(
        wal,
        Database(dsn, "ecoeco_waste", max_connections=1),
        Settings(time_scale=0.02),
        "worker-storage",
        ["image_uploader", "rule_retriever"],
        LostCommits(3, now - 5, now + 5),
    )
    try:
        assert rebuilder.rebuild_once() == 1
        assert rebuilder.rebuild_once() == 0  # written once
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT task_id, task_name, worker FROM task_stages WHERE task_id = ANY(%s) AND task_name <> "
                "'gpt5_analyzer'",
                ([done, in_flight, kept],),
            )
            assert cur.fetchall() == [(done, "image_uploader", "worker-storage")]
    finally:
        wal.close()
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM task_stages WHERE task_id LIKE %s", (f"rebuild-{run}-%",))
            cur.execute("DELETE FROM tasks WHERE task_id LIKE %s", (f"rebuild-{run}-%",))
