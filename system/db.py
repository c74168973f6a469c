"""PostgreSQL through psycopg2: a small thread-safe pool that keeps connections and drops broken ones.

psycopg2's own pool closes every returned connection beyond `minconn`, so with a lazy pool each
transaction paid for a new backend process (measured: most of waste-api's request time). This
pool keeps up to `max_connections` idle connections instead. After a server restart every idle
connection is stale; the first one found broken makes the pool drop all idle ones, so a restart
costs one failed transaction per process, not one per pooled connection.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extras
from psycopg2.extensions import connection as Connection

POOL_WAIT_S = 5.0
# A silent network cut leaves a pooled connection waiting on TCP retransmissions for minutes:
# give up on unacknowledged data after 5 s, and probe an idle connection, so a cut shows as an
# error (and the caller's retry path runs) instead of a hang.
NETWORK_TIMEOUTS = {
    "tcp_user_timeout": 5000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
}


class DatabaseUnavailable(Exception):
    """The database could not be reached or the statement failed for an operational reason."""


class CommitOutcomeUnknown(DatabaseUnavailable):
    """The connection broke during COMMIT: the server may have committed (a killed PostgreSQL that
    had already flushed the commit record), so the caller must not report a definite failure."""


class Database:
    """A lazily connected pool for one domain database."""

    def __init__(self, dsn: str, name: str, max_connections: int = 8) -> None:
        self.name = name
        self._dsn = dsn
        self._max = max_connections
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        # callers queue here for a slot rather than fail at once when all connections are out
        self._slots = threading.BoundedSemaphore(max_connections)

    def _checkout(self) -> Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return psycopg2.connect(
                self._dsn, connect_timeout=2, options="-c statement_timeout=5000", **NETWORK_TIMEOUTS
            )
        except psycopg2.Error as exc:
            raise DatabaseUnavailable(f"{self.name}: cannot connect: {exc}".strip()) from exc

    def _checkin(self, conn: Connection, broken: bool) -> None:
        if not broken and conn.closed == 0:
            with self._lock:
                self._idle.append(conn)
            return
        with self._lock:
            stale, self._idle = [conn, *self._idle], []
        for c in stale:
            with contextlib.suppress(psycopg2.Error):
                c.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor in one transaction: committed on success, rolled back on error."""
        if not self._slots.acquire(timeout=POOL_WAIT_S):
            raise DatabaseUnavailable(f"{self.name}: all {self._max} connections busy for {POOL_WAIT_S:.0f}s")
        try:
            conn = self._checkout()
        except BaseException:
            self._slots.release()
            raise
        broken = False
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
            try:
                conn.commit()
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                broken = True
                raise CommitOutcomeUnknown(f"{self.name}: connection lost during COMMIT: {exc}".strip()) from exc
        except CommitOutcomeUnknown:
            raise
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            broken = True
            raise DatabaseUnavailable(f"{self.name}: {exc}".strip()) from exc
        except BaseException:
            try:
                conn.rollback()
            except psycopg2.Error:
                broken = True
            raise
        finally:
            self._checkin(conn, broken)
            self._slots.release()

    def ping(self) -> bool:
        """SELECT 1 against the database."""
        try:
            with self.transaction() as cur:
                cur.execute("SELECT 1")
            return True
        except DatabaseUnavailable:
            return False
