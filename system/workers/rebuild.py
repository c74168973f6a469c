"""Rebuilding what a damaged WAL dropped (F9), from ecoeco_waste.

Every commit the WAL lost falls between the last one it still holds and the last one its commit
count saw (`CommitCount` in system/workers/wal.py). Of the rows those commits wrote:
- a stage still unfinished comes back by itself: its delivery was never acked, and the broker
  redelivers it once the halted worker's connection is gone (or recovery republishes the row);
- a stage that completed, forwarded its output and was acked left evidence downstream (a later
  stage's row in task_stages, or the result) but may have vanished before its own sync: its
  task_stages row is written here.
Not rebuilt, because nothing outside the lost commits holds them: a retry_queue entry (an acked
task waiting for S3 or GPT to come back) and a final stage's result not yet synced. Both need a
fault while a dependency is down, or on worker-ai; docs/failure-points.md (F9) says so.

For a while after the start (`REBUILD_WINDOW_S`, time-scaled) the pass runs every few seconds,
because downstream evidence arrives as the pipeline drains; `wal_lost_commits` shows the loss
meanwhile (the WALCorruption alert). The window closes only after a pass that reached
ecoeco_waste; then the loss is cleared in the WAL (wal_loss) and the gauge returns to 0. A worker
stopped before that finds the loss again at its next start.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from system import metrics
from system.broker import PIPELINE_STAGES
from system.db import Database, DatabaseUnavailable
from system.settings import TASK_TIMEOUT_S, Settings
from system.workers.wal import WAL, LostCommits

log = logging.getLogger(__name__)

REBUILD_WINDOW_S = 600.0  # design seconds: two sync periods, time for the pipeline to drain
PASS_PERIOD_S = 15.0  # design seconds between two passes (one scrape interval)
REBUILT = "completed"  # the mirror's status of a rebuilt row: the stage did complete


def missing_stages(
    mine: Sequence[str],
    tasks: Iterable[str],
    mirrored: set[tuple[str, str]],
    finished: set[str],
    in_wal: Callable[[str, str], bool],
) -> list[tuple[str, str]]:
    """(task, stage) of `mine` that completed (a later stage is mirrored, or the task has its
    result) yet are neither in the WAL nor mirrored: rows the lost commits took with them."""
    out = []
    for task in tasks:
        for stage in mine:
            if (task, stage) in mirrored or in_wal(task, stage):
                continue
            later = PIPELINE_STAGES[PIPELINE_STAGES.index(stage) + 1 :]
            if task in finished or any((task, s) in mirrored for s in later):
                out.append((task, stage))
    return out


def _ts(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, tz=dt.UTC)


class Rebuilder(threading.Thread):
    """Writes the mirror rows of stages the lost commits completed, for REBUILD_WINDOW_S."""

    def __init__(
        self, wal: WAL, db: Database, settings: Settings, worker: str, stages: Sequence[str], lost: LostCommits
    ) -> None:
        super().__init__(name="wal-rebuild", daemon=True)
        self._wal, self._db, self._worker = wal, db, worker
        self._stages = [s for s in PIPELINE_STAGES if s in stages]
        self._lost = lost
        self._window_s = max(settings.scaled(REBUILD_WINDOW_S), 5.0)
        self._period_s = max(settings.scaled(PASS_PERIOD_S), 0.5)
        # a task touched by a lost commit was accepted before it, at most a task timeout earlier
        self._since = max(0.0, lost.after - settings.scaled(TASK_TIMEOUT_S))
        self._halt = threading.Event()
        self.rebuilt = 0
        metrics.WAL_LOST_COMMITS.set(lost.count)  # from the first scrape on, before recovery ends

    def stop(self) -> None:
        """End after the current pass."""
        self._halt.set()

    def run(self) -> None:
        log.error(
            "the WAL lost %d commits made after %.3f (up to %.3f): rebuilding from ecoeco_waste",
            self._lost.count,
            self._lost.after,
            self._lost.until,
        )
        deadline = time.monotonic() + self._window_s
        done = False  # the window ends only after a pass that succeeded: until then the loss stands
        while not self._halt.is_set():
            try:
                self.rebuild_once()
                done = time.monotonic() >= deadline
            except (DatabaseUnavailable, OSError) as exc:
                log.warning("rebuild pass failed: %r", exc)
            except Exception:
                log.exception("rebuild pass failed")
            if done:
                break
            self._halt.wait(self._period_s)
        if not done:  # stopped first: the next start finds the loss again (wal_loss) and goes on
            return
        self._wal.clear_loss()
        metrics.WAL_LOST_COMMITS.set(0)
        log.info("WAL rebuild window closed: %d stage rows rebuilt", self.rebuilt)

    def rebuild_once(self) -> int:
        """One pass: find the stages the lost commits completed and write their mirror rows."""
        # the window ends a little after the last counted commit: tasks accepted meanwhile are not ours
        until = _ts(self._lost.until + 1.0)
        with self._db.transaction() as cur:
            cur.execute("SELECT task_id FROM tasks WHERE created_at BETWEEN %s AND %s", (_ts(self._since), until))
            tasks = [r["task_id"] for r in cur.fetchall()]
            if not tasks:
                return 0
            cur.execute("SELECT task_id, task_name FROM task_stages WHERE task_id = ANY(%s)", (tasks,))
            mirrored = {(r["task_id"], r["task_name"]) for r in cur.fetchall()}
            cur.execute("SELECT task_id FROM results WHERE task_id = ANY(%s)", (tasks,))
            finished = {r["task_id"] for r in cur.fetchall()}
            missing = missing_stages(
                self._stages, tasks, mirrored, finished, lambda t, s: self._wal.get(t, s) is not None
            )
            for task, stage in missing:
                cur.execute(
                    "INSERT INTO task_stages (task_id, task_name, status, worker) VALUES (%s,%s,%s,%s) "
                    "ON CONFLICT (task_id, task_name) DO NOTHING",
                    (task, stage, REBUILT, self._worker),
                )
        if missing:
            metrics.WAL_REBUILT.inc(len(missing))
            self.rebuilt += len(missing)
            log.warning("rebuilt %d stage rows the WAL lost: %s", len(missing), missing[:5])
        return len(missing)
