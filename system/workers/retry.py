"""The retry loop of spec F15: tasks in retry_queue run again when next_retry_at comes."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from system import metrics
from system.broker import BrokerUnavailable, Publisher
from system.settings import Settings
from system.workers.stage import ExternalFailure, PoisonMessage, Stage, retry_backoff, run_task
from system.workers.wal import WAL

log = logging.getLogger(__name__)

SPEC_MAX_RETRIES = 10


class Retrier(threading.Thread):
    """Polls retry_queue and re-runs due tasks through the same idempotent path as consumers."""

    def __init__(
        self, stages: dict[str, Stage], wal: WAL, settings: Settings, publisher: Publisher, completed: threading.Event
    ) -> None:
        super().__init__(name="wal-retry", daemon=True)
        self._stages, self._wal, self._settings = stages, wal, settings
        self._publisher, self._completed = publisher, completed
        self._halt = threading.Event()

    def stop(self) -> None:
        """End the loop."""
        self._halt.set()

    def run(self) -> None:
        poll = min(max(retry_backoff(self._settings)[0] / 4, 0.1), 2.0)
        while not self._halt.wait(poll):
            try:
                self.retry_due()
            except Exception:
                log.exception("retry pass failed")

    def retry_due(self, now: float | None = None) -> int:
        """Run every due retry once; returns how many completed."""
        done = 0
        for task_id, task_name, count in self._wal.due_retries(time.time() if now is None else now):
            try:
                done += self._retry_one(task_id, task_name, count)
            except Exception as exc:
                # one entry that fails in an unexpected way must not wedge every later one: it is
                # pushed back with its backoff, counted and logged, and the pass goes on
                metrics.WAL_RETRY_ERRORS.inc()
                log.exception("retry of %s/%s failed unexpectedly", task_id, task_name)
                base, cap = retry_backoff(self._settings)
                with contextlib.suppress(Exception):
                    self._wal.schedule_retry(task_id, task_name, f"unexpected: {exc!r}"[:500], base, cap)
        return done

    def _retry_one(self, task_id: str, task_name: str, count: int) -> int:
        """One due entry: run it again, forward its output, then drop the entry; 1 if it completed."""
        stage = self._stages.get(task_name)
        row = self._wal.get(task_id, task_name)
        if stage is None or row is None:
            self._wal.drop_retry(task_id, task_name)
            return 0
        try:
            output = run_task(stage, self._wal, row.payload, self._settings)
        except ExternalFailure as exc:
            if self._settings.is_unsafe("sync_gives_up") and count + 1 >= SPEC_MAX_RETRIES:
                # As written: after 10 retries the task is abandoned.
                self._wal.set_status(task_id, task_name, "failed", f"gave up: {exc}")
                self._wal.drop_retry(task_id, task_name)
                return 0
            base, cap = retry_backoff(self._settings)
            self._wal.schedule_retry(task_id, task_name, str(exc)[:500], base, cap)
            return 0
        except PoisonMessage:
            self._wal.set_status(task_id, task_name, "failed", "poison payload")
            self._wal.drop_retry(task_id, task_name)
            return 0
        if stage.output_queue is not None:
            try:
                self._publisher.publish(stage.output_queue, output)
            except BrokerUnavailable as exc:
                # Completed in the WAL but not forwarded: keep it due so the next pass forwards it.
                base, cap = retry_backoff(self._settings)
                self._wal.schedule_retry(task_id, task_name, str(exc)[:500], base, 0)
                return 0
        # only now, with the output confirmed downstream, does the entry go (a crash before this
        # line leaves it due: the next pass recalls the output from the WAL and forwards it)
        self._wal.drop_retry(task_id, task_name)
        metrics.WAL_RETRIED.inc()
        self._completed.set()
        return 1
