"""The worker's local write-ahead log: SQLite in WAL mode, synchronous=FULL, spec tables.

One connection guarded by a lock: SQLite serialises writers anyway, and the worker's
threads (consumers, sync, retry) each hold it only for one short transaction. Beside it, a
commit count kept outside SQLite's -wal (CommitCount), so a damaged -wal cannot hide its loss (F9).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# ---- the commit count -----------------------------------------------------------------------
# SQLite reads a truncated or corrupt -wal up to the last intact frame and drops every commit after
# it without an error; `integrity_check` still says ok (F9). So every WAL transaction counts itself
# in a `wal_meta` row and, once committed, writes the count to `task_queue.db.commits`. At start a
# database behind that file has lost commits.
#
# The file is written after the commit, never before: it can lag the database (a crash between the
# two, or a power loss before the page cache reached the disk, since it is not fsynced) and then
# hides a loss, but it can never claim one that did not happen.

_FORMAT = "{:020d} {:020.6f}\n"  # fixed width: one pwrite rewrites it in place
_SIZE = len(_FORMAT.format(0, 0.0))


@dataclass(frozen=True)
class LostCommits:
    """Commits the file counted and the database no longer holds, and when they happened."""

    count: int
    after: float  # the last commit the database still holds (0: none)
    until: float  # the last commit the file saw


class CommitCount:
    """task_queue.db.commits: the last commit count and time, rewritten after each commit."""

    def __init__(self, path: str) -> None:
        self.path = path
        # O_NOFOLLOW: a link planted in the volume is refused rather than written through
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)

    def read(self) -> tuple[int, float] | None:
        """(count, time) as last written; None for a new or unreadable file."""
        raw = os.pread(self._fd, _SIZE, 0).decode("ascii", "replace").split()
        try:
            return int(raw[0]), float(raw[1])
        except (IndexError, ValueError):
            return None

    def write(self, count: int, at: float) -> None:
        """Record that the database now holds `count` commits, the last at `at`."""
        os.pwrite(self._fd, _FORMAT.format(count, at).encode("ascii"), 0)

    def close(self) -> None:
        os.close(self._fd)


def lost(held: tuple[int, float], counted: tuple[int, float] | None) -> LostCommits | None:
    """What the database (`held`: count, time) lost against the file (`counted`), if anything."""
    if counted is None or counted[0] <= held[0]:
        return None
    return LostCommits(counted[0] - held[0], held[1], counted[1])


SCHEMA = """
CREATE TABLE IF NOT EXISTS task_wal (
    task_id TEXT NOT NULL,
    task_name TEXT NOT NULL,
    payload TEXT NOT NULL,
    output TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending','running','completed','republished','timeout','failed')),
    error TEXT,
    created_at REAL NOT NULL,
    completed_at REAL,
    sync_status TEXT NOT NULL DEFAULT 'pending' CHECK (sync_status IN ('pending','synced')),
    sync_retry_count INTEGER NOT NULL DEFAULT 0,
    last_sync_attempt REAL,
    PRIMARY KEY (task_id, task_name)
);
CREATE INDEX IF NOT EXISTS task_wal_status ON task_wal (status);
CREATE INDEX IF NOT EXISTS task_wal_unsynced ON task_wal (sync_status, completed_at);
CREATE TABLE IF NOT EXISTS gpt_cache (
    image_path TEXT NOT NULL,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (image_path, model)
);
CREATE TABLE IF NOT EXISTS retry_queue (
    task_id TEXT NOT NULL,
    task_name TEXT NOT NULL,
    retry_count INTEGER NOT NULL,
    error TEXT,
    next_retry_at REAL NOT NULL,
    PRIMARY KEY (task_id, task_name)
);
-- every transaction of WAL counts itself here (CommitCount, above)
CREATE TABLE IF NOT EXISTS wal_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    commits INTEGER NOT NULL,
    committed_at REAL NOT NULL
);
INSERT OR IGNORE INTO wal_meta (id, commits, committed_at) VALUES (1, 0, 0);
-- a loss the commit count found, kept until its rebuild is done (a restart meanwhile finds it again)
CREATE TABLE IF NOT EXISTS wal_loss (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    commits INTEGER NOT NULL,
    after REAL NOT NULL,
    until REAL NOT NULL
);
"""

UNFINISHED = ("pending", "running")


@dataclass(frozen=True)
class WalRow:
    """One task_wal row."""

    task_id: str
    task_name: str
    payload: dict[str, Any]
    output: dict[str, Any] | None
    status: str
    error: str | None
    created_at: float
    completed_at: float | None
    sync_status: str
    sync_retry_count: int
    last_sync_attempt: float | None


def _row(r: sqlite3.Row) -> WalRow:
    return WalRow(
        task_id=r["task_id"],
        task_name=r["task_name"],
        payload=json.loads(r["payload"]),
        output=json.loads(r["output"]) if r["output"] else None,
        status=r["status"],
        error=r["error"],
        created_at=r["created_at"],
        completed_at=r["completed_at"],
        sync_status=r["sync_status"],
        sync_retry_count=r["sync_retry_count"],
        last_sync_attempt=r["last_sync_attempt"],
    )


WAL_FILE_LIMIT_BYTES = 64 * 1024


class WAL:
    """task_queue.db: every stage's input, status and output, durable before any ack.

    With `count_commits` (all but the design as written) each transaction is counted in the
    database and in a file beside it; `lost` says what a damaged -wal dropped before this start
    (or before an earlier one whose rebuild did not finish)."""

    def __init__(self, path: str, count_commits: bool = True) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # synchronous is per connection: FULL syncs the WAL file on every commit.
        self._db.execute("PRAGMA synchronous=FULL")
        # Once a checkpoint lets the -wal start over, SQLite cuts it back to this size: the file does
        # not keep the room of its largest burst for ever, and a full disk is met by the next burst
        # rather than absorbed by stale room inside the file.
        self._db.execute(f"PRAGMA journal_size_limit={WAL_FILE_LIMIT_BYTES}")
        self._db.executescript(SCHEMA)
        self.lost: LostCommits | None = None
        self._commit_count: CommitCount | None = None
        if count_commits:
            self._start_count()

    def _start_count(self) -> None:
        """Compare the database's commit count with the file's, then go on from the higher one.

        In one write transaction: another process (system/ops) cannot commit between the two reads,
        and its file write trails its commit, so the file is never ahead without a real loss."""
        self._commit_count = CommitCount(self.path + ".commits")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                commits, at = self._db.execute("SELECT commits, committed_at FROM wal_meta WHERE id=1").fetchone()
                counted = self._commit_count.read()
                found = lost((int(commits), float(at)), counted)
                if found is not None:
                    self._db.execute(
                        "INSERT INTO wal_loss (id, commits, after, until) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO "
                        "UPDATE SET commits=commits+excluded.commits, after=min(after, excluded.after), "
                        "until=max(until, excluded.until)",
                        (found.count, found.after, found.until),
                    )
                pending = self._db.execute("SELECT commits, after, until FROM wal_loss WHERE id=1").fetchone()
                self.lost = LostCommits(int(pending[0]), float(pending[1]), float(pending[2])) if pending else None
                # counting on from the file's number: the gap is reported once, and never hidden later
                start = max(int(commits), counted[0] if counted else 0)
                self._db.execute("UPDATE wal_meta SET commits=max(commits, ?) WHERE id=1", (start,))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._commit_count.write(start, time.time())

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            now = time.time()
            try:
                yield self._db
                commits = None
                if self._commit_count is not None:
                    # read back in the transaction: another process (system/ops) may commit too
                    (commits,) = self._db.execute(
                        "UPDATE wal_meta SET commits=commits+1, committed_at=? WHERE id=1 RETURNING commits", (now,)
                    ).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back (e.g. SQLITE_FULL on COMMIT): keep the real error
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            if self._commit_count is not None and commits is not None:
                # a lagging count only hides a loss; the commit itself stands
                with contextlib.suppress(OSError):
                    self._commit_count.write(int(commits), now)

    def clear_loss(self) -> None:
        """The lost commits' rebuild is done: a later start no longer reports them."""
        with self._tx() as db:
            db.execute("DELETE FROM wal_loss")
        self.lost = None

    def close(self) -> None:
        """Close the connection (checkpointing is SQLite's business)."""
        with self._lock:
            self._db.close()
            if self._commit_count is not None:
                self._commit_count.close()

    def get(self, task_id: str, task_name: str) -> WalRow | None:
        """The row of one task at one stage, if any."""
        with self._lock:
            r = self._db.execute(
                "SELECT * FROM task_wal WHERE task_id=? AND task_name=?", (task_id, task_name)
            ).fetchone()
        return _row(r) if r else None

    def begin(self, task_id: str, task_name: str, payload: dict[str, Any], now: float | None = None) -> None:
        """Record that work on a task started (spec: INSERT pending); keeps an existing row."""
        now = time.time() if now is None else now
        with self._tx() as db:
            db.execute(
                "INSERT INTO task_wal (task_id, task_name, payload, status, created_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (task_id, task_name) DO UPDATE SET status='running' "
                "WHERE task_wal.status <> 'completed'",
                (task_id, task_name, json.dumps(payload), "running", now),
            )

    def complete(
        self,
        task_id: str,
        task_name: str,
        output: dict[str, Any],
        now: float | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Mark the stage done with its output; the row now waits for the PostgreSQL sync.

        `payload` replaces the stored input: a finished stage keeps no bulky field (an image is
        kept by its S3 key in the output), so the WAL's size follows the work in hand, not the
        work done. A retry_queue entry stays until its output is forwarded (Retrier)."""
        now = time.time() if now is None else now
        with self._tx() as db:
            db.execute(
                "UPDATE task_wal SET status='completed', output=?, completed_at=?, error=NULL, "
                "sync_status='pending', payload=coalesce(?, payload) WHERE task_id=? AND task_name=?",
                (json.dumps(output), now, None if payload is None else json.dumps(payload), task_id, task_name),
            )

    def prune(self, finished_before: float) -> int:
        """Delete rows completed and synced before `finished_before` that no retry entry still
        needs, and GPT answers cached before it; returns the task_wal rows deleted."""
        with self._tx() as db:
            deleted = db.execute(
                "DELETE FROM task_wal WHERE status='completed' AND sync_status='synced' AND completed_at<? "
                "AND NOT EXISTS (SELECT 1 FROM retry_queue r WHERE r.task_id=task_wal.task_id "
                "AND r.task_name=task_wal.task_name)",
                (finished_before,),
            ).rowcount
            db.execute("DELETE FROM gpt_cache WHERE created_at<?", (finished_before,))
        return int(deleted)

    def set_status(self, task_id: str, task_name: str, status: str, error: str | None) -> None:
        """Set an unfinished row's status (republished, timeout, failed) with a reason."""
        with self._tx() as db:
            db.execute(
                "UPDATE task_wal SET status=?, error=? WHERE task_id=? AND task_name=? AND status<>'completed'",
                (status, error, task_id, task_name),
            )

    def unfinished(self, include_republished: bool = True) -> list[WalRow]:
        """Rows whose stage has not completed, oldest first."""
        statuses = (*UNFINISHED, "republished") if include_republished else UNFINISHED
        marks = ",".join("?" * len(statuses))
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM task_wal WHERE status IN ({marks}) ORDER BY created_at", statuses
            ).fetchall()
        return [_row(r) for r in rows]

    def _count(self, query: str, params: tuple[object, ...] = ()) -> int:
        with self._lock:
            (n,) = self._db.execute(query, params).fetchone()
        return int(n)

    def pending_count(self, include_republished: bool = True) -> int:
        """Rows not yet done (the wal_pending_tasks gauge): pending/running, and republished unless
        recovery never selects those again (the design's republish_once: then they are abandoned)."""
        statuses = "('pending','running','republished')" if include_republished else "('pending','running')"
        return self._count(f"SELECT count(*) FROM task_wal WHERE status IN {statuses}")

    def unsynced_count(self, give_up_after: int | None = None) -> int:
        """Completed rows not yet in PostgreSQL (the wal_unsynced_tasks gauge); with `give_up_after`
        only those the sync still tries (the design's sync_gives_up abandons the others)."""
        return self._count(
            "SELECT count(*) FROM task_wal WHERE status='completed' AND sync_status='pending' "
            "AND (?1 IS NULL OR sync_retry_count < ?1)",
            (give_up_after,),
        )

    def disk_free_bytes(self) -> int:
        """Bytes available (to this process) on the WAL's filesystem."""
        st = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        return st.f_bavail * st.f_frsize

    def unsynced(
        self,
        limit: int,
        due_before: float,
        base_s: float,
        doubling_retries: int,
        then_every_s: float,
        give_up_after: int | None = None,
    ) -> list[WalRow]:
        """Completed rows not yet in PostgreSQL whose wait has elapsed, oldest first.

        After its n-th failed attempt a row waits base x 2^(n-1) for n <= `doubling_retries`, then
        `then_every_s`; with `give_up_after` a row with that many attempts is never selected
        again. Only due rows are selected, so rows still waiting never hold back later ones."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM task_wal WHERE status='completed' AND sync_status='pending' "
                "AND (?5 IS NULL OR sync_retry_count < ?5) "
                "AND (sync_retry_count = 0 OR last_sync_attempt IS NULL OR last_sync_attempt + CASE "
                "WHEN sync_retry_count <= ?2 THEN ?1 * (1 << (sync_retry_count - 1)) ELSE ?3 END <= ?4) "
                "ORDER BY completed_at LIMIT ?6",
                (base_s, doubling_retries, then_every_s, due_before, give_up_after, limit),
            ).fetchall()
        return [_row(r) for r in rows]

    def mark_synced(self, keys: list[tuple[str, str]]) -> None:
        """Rows now present in PostgreSQL."""
        with self._tx() as db:
            db.executemany("UPDATE task_wal SET sync_status='synced' WHERE task_id=? AND task_name=?", keys)

    def mark_sync_failed(self, keys: list[tuple[str, str]], error: str, now: float | None = None) -> None:
        """Spec F11: count the attempt and remember when, for the exponential backoff."""
        now = time.time() if now is None else now
        with self._tx() as db:
            db.executemany(
                "UPDATE task_wal SET sync_retry_count=sync_retry_count+1, last_sync_attempt=?, error=? "
                "WHERE task_id=? AND task_name=?",
                [(now, error, t, n) for t, n in keys],
            )

    def schedule_retry(
        self, task_id: str, task_name: str, error: str, base_s: float, max_exponent: int, now: float | None = None
    ) -> int:
        """Spec F15: put the task in retry_queue with next_retry_at = now + base x 2^n; returns n."""
        now = time.time() if now is None else now
        with self._tx() as db:
            r = db.execute(
                "SELECT retry_count FROM retry_queue WHERE task_id=? AND task_name=?", (task_id, task_name)
            ).fetchone()
            count = (r["retry_count"] + 1) if r else 0
            delay = base_s * 2 ** min(count, max_exponent)
            db.execute(
                "INSERT INTO retry_queue (task_id, task_name, retry_count, error, next_retry_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (task_id, task_name) DO UPDATE SET retry_count=excluded.retry_count, "
                "error=excluded.error, next_retry_at=excluded.next_retry_at",
                (task_id, task_name, count, error, now + delay),
            )
            db.execute(
                "UPDATE task_wal SET status='pending', error=? WHERE task_id=? AND task_name=? AND status<>'completed'",
                (error, task_id, task_name),
            )
        return count

    def due_retries(self, now: float, limit: int = 50) -> list[tuple[str, str, int]]:
        """(task_id, task_name, retry_count) whose next_retry_at has come."""
        with self._lock:
            rows = self._db.execute(
                "SELECT task_id, task_name, retry_count FROM retry_queue WHERE next_retry_at<=? "
                "ORDER BY next_retry_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def drop_retry(self, task_id: str, task_name: str) -> None:
        """Remove a retry entry (given up, or the task completed elsewhere)."""
        with self._tx() as db:
            db.execute("DELETE FROM retry_queue WHERE task_id=? AND task_name=?", (task_id, task_name))

    def retry_count(self) -> int:
        """Entries waiting in retry_queue."""
        return self._count("SELECT count(*) FROM retry_queue")

    def cache_get(self, image_path: str, model: str) -> str | None:
        """A cached GPT response for this image and model."""
        with self._lock:
            r = self._db.execute(
                "SELECT response FROM gpt_cache WHERE image_path=? AND model=?", (image_path, model)
            ).fetchone()
        return str(r[0]) if r else None

    def cache_put(self, image_path: str, model: str, response: str) -> None:
        """Remember a successful GPT response (spec: gpt_cache)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO gpt_cache (image_path, model, response, created_at) VALUES (?,?,?,?)",
                (image_path, model, response, time.time()),
            )

    def checkpoint(self) -> tuple[int, int, int]:
        """PRAGMA wal_checkpoint(FULL): (busy, log frames, checkpointed frames)."""
        with self._lock:
            busy, log_frames, done = self._db.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
        return int(busy), int(log_frames), int(done)

    def wal_file_size(self) -> int:
        """Size of task_queue.db-wal in bytes (0 when absent)."""
        try:
            return os.path.getsize(self.path + "-wal")
        except OSError:
            return 0
