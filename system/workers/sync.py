"""Background sync of completed WAL rows into ecoeco_waste (spec F11), with backoff.

Rows are synced oldest first in batches. A failed batch counts an attempt on each row and
waits 60 s x 2^n (time-scaled). As written, the spec stops after 10 attempts; here the
backoff is capped instead, unless the `sync_gives_up` defect is planted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time

import psycopg2.extras

from system import metrics
from system.db import Database, DatabaseUnavailable
from system.settings import PRUNE_PERIOD_S, SYNC_BACKOFF_BASE_S, SYNC_PERIOD_S, Settings
from system.workers.wal import WAL, WalRow

log = logging.getLogger(__name__)

BATCH = 100
# Ours: 60 s x 2^n, the wait capped at 2^4 (16 min design), never given up.
MAX_EXPONENT = 4
# The spec (F11), planted as `sync_gives_up`: 60 s x 2^n for 5 retries, then the background job
# every 5 minutes re-queues rows with sync_retry_count < 10; after the 10th attempt, nothing.
SPEC_RETRIES = 5
GIVE_UP_AFTER = 10
# Completions wake the sync at once; under load (a pass found several rows) a short gap lets rows
# gather into one PostgreSQL transaction instead of one (and one SQLite fsync) per completed stage.
MIN_GAP_S = 0.05


def _ts(t: float | None) -> dt.datetime | None:
    return None if t is None else dt.datetime.fromtimestamp(t, tz=dt.UTC)


def write_rows(
    cur: psycopg2.extras.RealDictCursor, rows: list[WalRow], worker: str, final_stage: str | None, idempotent: bool
) -> int:
    """Upsert rows into task_stages and final outputs into results; returns results stored."""
    stored = 0
    for row in rows:
        cur.execute(
            "INSERT INTO task_stages (task_id, task_name, status, worker, completed_at) VALUES (%s,%s,%s,%s,%s) "
            "ON CONFLICT (task_id, task_name) DO UPDATE SET status=EXCLUDED.status, "
            "completed_at=EXCLUDED.completed_at, synced_at=now()",
            (row.task_id, row.task_name, row.status, worker, _ts(row.completed_at)),
        )
        if row.task_name != final_stage or row.output is None:
            continue
        out = row.output
        attempt = str(out.get("attempt", ""))
        # every write attempt is logged, stored or not: the audit counts distinct attempts per task
        cur.execute("INSERT INTO results_log (task_id, attempt) VALUES (%s,%s)", (row.task_id, attempt))
        values = (
            row.task_id,
            out.get("category", "unknown"),
            out.get("answer", ""),
            json.dumps(out.get("rules", {})),
            attempt,
            _ts(row.completed_at),
        )
        conflict = "DO UPDATE SET answer=EXCLUDED.answer, attempt=EXCLUDED.attempt" if not idempotent else "DO NOTHING"
        cur.execute(
            "INSERT INTO results (task_id, category, answer, rules, attempt, completed_at) "
            f"VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (task_id) {conflict} RETURNING task_id",
            values,
        )
        if cur.fetchone() is not None:
            stored += 1
    return stored


def attempt_limit(settings: Settings) -> int | None:
    """After how many failed attempts the sync abandons a row: the design's 10 under sync_gives_up,
    else never (None)."""
    return GIVE_UP_AFTER if settings.is_unsafe("sync_gives_up") else None


class Syncer(threading.Thread):
    """Wakes on each completion and every sync period; pushes due rows to PostgreSQL."""

    def __init__(
        self, wal: WAL, db: Database, settings: Settings, worker: str, final_stage: str | None, wake: threading.Event
    ) -> None:
        super().__init__(name="wal-sync", daemon=True)
        self._wal, self._db, self._settings = wal, db, settings
        self._worker, self._final = worker, final_stage
        self._wake = wake
        self._halt = threading.Event()

    def stop(self) -> None:
        """End the loop."""
        self._halt.set()
        self._wake.set()

    def run(self) -> None:
        period = max(self._settings.scaled(SYNC_PERIOD_S), 0.2)
        next_prune = 0.0
        while not self._halt.is_set():
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + max(self._settings.scaled(PRUNE_PERIOD_S), 1.0)
                self.prune()
            self._wake.wait(min(period, self._settings.scaled(SYNC_BACKOFF_BASE_S), 1.0))
            self._wake.clear()
            attempted = 0
            try:
                while (n := self.sync_once()) == BATCH:
                    attempted += n
                attempted += n
            except Exception:
                log.exception("sync pass failed")
            if attempted > 1:  # under load: let the next rows gather; a lone row syncs at once
                self._halt.wait(MIN_GAP_S)

    def prune(self, now: float | None = None) -> int:
        """Delete finished rows synced longer ago than the retention; returns how many."""
        now = time.time() if now is None else now
        try:
            pruned = self._wal.prune(now - self._settings.scaled(self._settings.wal_retention_s))
        except Exception:  # a full disk must not end the sync thread: pruning is retried next period
            log.exception("pruning the WAL failed")
            return 0
        metrics.WAL_PRUNED.inc(pruned)
        return pruned

    def sync_once(self, now: float | None = None) -> int:
        """Sync one batch of due rows; returns how many rows were attempted."""
        now = time.time() if now is None else now
        base = self._settings.scaled(SYNC_BACKOFF_BASE_S)
        limit = attempt_limit(self._settings)
        if limit is not None:
            rows = self._wal.unsynced(
                BATCH, now, base, SPEC_RETRIES, self._settings.scaled(SYNC_PERIOD_S), give_up_after=limit
            )
        else:
            rows = self._wal.unsynced(BATCH, now, base, MAX_EXPONENT + 1, base * 2**MAX_EXPONENT)
        if not rows:
            return 0
        try:
            self._write(rows)
        except DatabaseUnavailable as exc:
            metrics.WAL_SYNC_FAILURES.inc()
            log.warning("sync of %d rows failed: %s", len(rows), exc)
            keys = [(r.task_id, r.task_name) for r in rows]
            if self._settings.is_unsafe("sync_marks_refused"):  # planted: the refused batch counts as synced
                self._wal.mark_synced(keys)
            else:
                self._wal.mark_sync_failed(keys, str(exc)[:300], now)
            return 0
        except Exception:
            # a row the database refuses (bad data) must not hold every later one back: write the
            # batch row by row; the one that fails backs off alone and is counted
            log.exception("sync of a batch of %d rows failed; syncing them one by one", len(rows))
            for row in rows:
                try:
                    self._write([row])
                except Exception as exc:
                    metrics.WAL_SYNC_FAILURES.inc()
                    self._wal.mark_sync_failed([(row.task_id, row.task_name)], repr(exc)[:300], now)
        return len(rows)

    def _write(self, rows: list[WalRow]) -> None:
        """One transaction for `rows`, then mark them synced."""
        keys = [(r.task_id, r.task_name) for r in rows]
        early = self._settings.is_unsafe("sync_marks_before_commit")  # planted: counted before it is stored
        with self._db.transaction() as cur:
            stored = write_rows(cur, rows, self._worker, self._final, not self._settings.is_unsafe("no_idempotency"))
            if early:
                self._wal.mark_synced(keys)
        if not early:
            self._wal.mark_synced(keys)
        metrics.RESULTS_STORED.inc(stored)
        metrics.WAL_SYNC_RETRIED.inc(sum(1 for r in rows if r.sync_retry_count > 0))
        synced_at = time.time()
        for r in rows:
            if r.completed_at is not None:
                metrics.WAL_SYNC_DELAY.observe(max(0.0, synced_at - r.completed_at))
