"""PostgreSQL through psycopg2: a small thread-safe pool that drops broken connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

POOL_WAIT_S = 5.0


class DatabaseUnavailable(Exception):
    """The database could not be reached or the statement failed for an operational reason."""


class Database:
    """A lazily connected pool for one domain database."""

    def __init__(self, dsn: str, name: str, max_connections: int = 8) -> None:
        self.name = name
        self._dsn = dsn
        self._max = max_connections
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._lock = threading.Lock()
        # psycopg2's pool fails at once when all connections are out; callers queue here instead
        self._slots = threading.BoundedSemaphore(max_connections)

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = psycopg2.pool.ThreadedConnectionPool(
                    0, self._max, self._dsn, connect_timeout=2,
                    options="-c statement_timeout=5000",
                )
            return self._pool

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor in one transaction: committed on success, rolled back on error."""
        if not self._slots.acquire(timeout=POOL_WAIT_S):
            raise DatabaseUnavailable(f"{self.name}: all {self._max} connections busy for {POOL_WAIT_S:.0f}s")
        try:
            pool = self._get_pool()
            conn = pool.getconn()
        except (psycopg2.Error, psycopg2.pool.PoolError) as exc:
            self._slots.release()
            raise DatabaseUnavailable(f"{self.name}: cannot connect: {exc}".strip()) from exc
        broken = False
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
            conn.commit()
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
            broken = broken or conn.closed != 0
            pool.putconn(conn, close=broken)
            self._slots.release()

    def ping(self) -> bool:
        """SELECT 1 against the database."""
        try:
            with self.transaction() as cur:
                cur.execute("SELECT 1")
            return True
        except DatabaseUnavailable:
            return False
