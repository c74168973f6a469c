"""Hold every connection slot of a PostgreSQL server until it answers 'too many clients'."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import psycopg2
import psycopg2.extensions

from core.evidence import EffectCheck
from faults.base import Fault, FaultError
from faults.postgres import loopback_connection
from faults.target import Project, container_ips
from system.credentials import PG_SUPERUSER, pg_superuser_password

# Superusers get "too many clients"; others hit the reserved slots first.
_EXHAUSTED = ("too many clients", "remaining connection slots are reserved")
_APP = "ecoeco-fault-exhaust-pool"


def _exhausted(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in _EXHAUSTED)


class ExhaustPool(Fault):
    """Open connections from the host to a PostgreSQL service's published port until refused."""

    name = "exhaust_pool"

    def __init__(
        self,
        stack: Project,
        service: str = "pg-waste",
        dbname: str = "postgres",
        user: str = PG_SUPERUSER,
        password: str | None = None,  # the superuser's (system/credentials.py)
        max_connections: int = 1000,
        connect_timeout_s: int = 5,
        reset_clients: tuple[str, ...] = (),
    ) -> None:
        self.stack = stack
        # also end the connections these services already hold, again and again while injected (as
        # a server restart or a network blip would): only then must they ask for a slot and be
        # refused. Others (the metrics exporter, whose count of connections the alert reads) keep theirs.
        self.reset_clients = tuple(reset_clients)
        self._client_ips: list[str] = []
        self.resets = 0
        self.service = service
        self.dbname, self.user = dbname, user
        self.password = pg_superuser_password() if password is None else password
        self.max_connections = max_connections  # give up (FaultError) rather than open more than this
        self.connect_timeout_s = connect_timeout_s
        self._held: list[psycopg2.extensions.connection] = []
        self._refusal = ""
        self._port = 0
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._grabber: threading.Thread | None = None

    def _connect(self) -> psycopg2.extensions.connection:
        return loopback_connection(
            self._port,
            self.dbname,
            self.user,
            self.password,
            application=_APP,
            connect_timeout_s=self.connect_timeout_s,
        )

    def inject(self) -> None:
        """Connect until the server refuses with 'too many clients'; keep every connection open."""
        self._port = self.stack.host_port(self.service, 5432)
        while len(self._held) < self.max_connections:
            try:
                self._held.append(self._connect())
            except psycopg2.OperationalError as exc:
                if _exhausted(exc):
                    self._refusal = str(exc).strip()
                    # Clients that close a connection free a slot: keep taking freed slots while injected.
                    self._halt.clear()
                    self._grabber = threading.Thread(target=self._grab_freed, name="exhaust-pool", daemon=True)
                    self._grabber.start()
                    return
                raise FaultError(f"connecting to {self.service} on 127.0.0.1:{self._port} failed: {exc}") from exc
        raise FaultError(f"{self.service} still accepts connections after {self.max_connections}")

    def _grab_freed(self) -> None:
        while not self._halt.wait(0.05):
            if self.reset_clients:
                self._reset_clients()
            with contextlib.suppress(psycopg2.OperationalError):
                conn = self._connect()
                with self._lock:
                    self._held.append(conn)

    def _reset_clients(self) -> None:
        """Terminate the named services' backends; the freed slots are taken next."""
        with self._lock:
            conn = self._held[0] if self._held else None
        if conn is None:
            return
        if not self._client_ips:  # resolved once: the services are not restarted by this fault
            self._client_ips = sorted(
                {ip for s in self.reset_clients for c in self.stack.containers(s) for ip in container_ips(c).values()}
            )
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE backend_type = 'client backend' AND host(client_addr) = ANY(%s)",
                    (self._client_ips,),
                )
                row = cur.fetchone()
            conn.commit()
            self.resets += int(row[0]) if row else 0
        except psycopg2.Error:
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()

    def heal(self) -> None:
        """Stop taking slots and close every held connection."""
        self._halt.set()
        if self._grabber is not None:
            self._grabber.join(timeout=10)
            self._grabber = None
        while self._held:
            with self._lock:
                conn = self._held.pop()
            with contextlib.suppress(Exception):  # a connection the server already dropped is fine
                conn.close()

    def evidence(self) -> list[EffectCheck]:
        """The refusal seen at inject; a fresh connection is refused now too."""
        out = [
            EffectCheck(
                "refused-at-inject",
                bool(self._refusal),
                f"holding {len(self._held)} connections; server said: {self._refusal or 'nothing'}",
            )
        ]
        if not self._port:
            return out
        for _ in range(20):  # a slot another client just freed is taken and held, then try again
            try:
                conn = self._connect()
            except psycopg2.OperationalError as exc:
                out.append(EffectCheck("refused-now", _exhausted(exc), str(exc).strip()))
                return out
            with self._lock:
                self._held.append(conn)
        out.append(EffectCheck("refused-now", False, "new connections kept being accepted"))
        return out

    def describe(self) -> dict[str, Any]:
        """Service, database, user, cap."""
        return {
            "fault": self.name,
            "service": self.service,
            "dbname": self.dbname,
            "user": self.user,
            "max_connections": self.max_connections,
            "reset_clients": list(self.reset_clients),
            "clients_reset": self.resets,
        }
