"""Harness configuration: where the stack is, how fast its timers run, where a run writes."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from core.record import AS_WRITTEN, HARDENED
from system import as_written, topology
from system.broker_access import definitions
from system.credentials import (
    PG_SUPERUSER,
    amqp_password,
    amqp_users,
    erlang_cookie,
    pg_password,
    pg_roles,
    pg_superuser_password,
    token_secret,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class HarnessConfig:
    """Everything a run needs to find and pace the system under test."""

    project: str = "ecoeco"
    port_prefix: str = topology.DEFAULT_PORT_PREFIX
    time_scale: float = 0.02
    runs_dir: Path = REPO_ROOT / "runs"
    run_id: str = ""
    unsafe: str = ""
    repeat: int = 1  # runs of each failure point (--repeat N); a point stops at its first violation
    build: str = HARDENED  # HARDENED, or AS_WRITTEN: the design's own policies and alert rules (--as-written)

    def port(self, service: str, container_port: int | None = None) -> int:
        """The 127.0.0.1 port of a service (system/topology.py reads it from docker-compose.yml)."""
        return topology.host_port(service, container_port, self.port_prefix)

    def url(self, service: str, container_port: int | None = None) -> str:
        """Base URL of an HTTP service on the loopback."""
        return f"http://127.0.0.1:{self.port(service, container_port)}"

    def dsn(self, service: str) -> str:
        """libpq DSN of a database server from the host."""
        return (
            f"host=127.0.0.1 port={self.port(service)} dbname={topology.load().databases[service]} "
            f"user={PG_SUPERUSER} password={pg_superuser_password()} connect_timeout=2"
        )

    @property
    def run_dir(self) -> Path:
        """This run's folder."""
        return self.runs_dir / self.run_id

    @property
    def control_dir(self) -> Path:
        """Host folder mounted at /control (GPT router control file)."""
        return REPO_ROOT / ".runtime" / "control"

    @property
    def as_written(self) -> bool:
        """The design as written is on trial (system/as_written.py), not the hardened build."""
        return self.build == AS_WRITTEN

    def compose_env(self) -> dict[str, str]:
        """Environment for docker compose: project, ports, time scale, planted defects (the design's
        own policies and alert rules in an as-written run), the secrets."""
        unsafe, build = self.unsafe, {"ECOECO_ALERT_RULES": "ours"}
        if self.as_written:
            unsafe = ",".join(o for o in (as_written.UNSAFE, self.unsafe) if o)
            build = {
                "ECOECO_ALERT_RULES": as_written.ALERT_RULES,
                "ECOECO_DEFECT_AUTH_DSN": self.resolve(as_written.AUTH_DSN),
            }
        return {
            "ECOECO_PROJECT": self.project,
            "ECOECO_PORT_PREFIX": self.port_prefix,
            "ECOECO_TIME_SCALE": str(self.time_scale),
            "ECOECO_UNSAFE": unsafe,
            **build,
            "ECOECO_TOKEN_SECRET": token_secret(),
            "ECOECO_ERLANG_COOKIE": erlang_cookie(),
            "ECOECO_PG_SUPERUSER_PASSWORD": pg_superuser_password(),
            **{f"ECOECO_PG_PW_{role.upper()}": pg_password(role) for role in pg_roles()},
            **{f"ECOECO_AMQP_PW_{user.upper()}": amqp_password(user) for user in amqp_users()},
            "ECOECO_AMQP_DEFINITIONS": definitions({user: amqp_password(user) for user in amqp_users()}),
        }

    def resolve(self, value: str) -> str:
        """`{dsn:<role>}` in a planted defect's environment -> that service role's DSN (its password is
        filled in here, so the defect as recorded holds none)."""
        return _DSN_REF.sub(lambda m: service_dsn(m.group(1)), value)


def service_dsn(role: str) -> str:
    """The DSN a service connects with from inside the stack, as its own role."""
    where = topology.load()
    server = where.role_server(role)
    return f"postgresql://{role}:{pg_password(role)}@{server}:{topology.PG_PORT}/{where.databases[server]}"


_DSN_REF = re.compile(r"\{dsn:([a-z_]+)\}")


def from_env() -> HarnessConfig:
    """Config from ECOECO_* variables, with a fresh run id."""
    run_id = os.environ.get("ECOECO_RUN_ID") or time.strftime("%Y%m%d-%H%M%S")
    return HarnessConfig(
        project=os.environ.get("ECOECO_PROJECT", "ecoeco"),
        port_prefix=topology.port_prefix(),
        time_scale=float(os.environ.get("ECOECO_TIME_SCALE", "0.02")),
        runs_dir=Path(os.environ.get("ECOECO_RUNS_DIR", str(REPO_ROOT / "runs"))),
        run_id=run_id,
        unsafe=os.environ.get("ECOECO_UNSAFE", ""),
    )
