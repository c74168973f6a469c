"""Harness configuration: where the stack is, how fast its timers run, where a run writes."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from system import as_written, topology

# what a run puts on trial: the hardened build, or the design as written (system/as_written.py)
BUILDS = HARDENED, AS_WRITTEN = ("hardened", "as-written")
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
            f"host=127.0.0.1 port={self.port(service)} dbname={topology.load().databases[service]} user=ecoeco "
            "password=ecoeco connect_timeout=2"
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
            **{f"ECOECO_PG_PW_{role.upper()}": pg_password(role) for role in pg_roles()},
        }

    def resolve(self, value: str) -> str:
        """`{dsn:<role>}` in a planted defect's environment -> that service role's DSN (its password is
        filled in here, so the defect as recorded holds none)."""
        return _DSN_REF.sub(lambda m: service_dsn(m.group(1)), value)


SECRETS_DIR = REPO_ROOT / ".runtime" / "secrets"
SECRET_FILE = SECRETS_DIR / "token_secret"
COOKIE_FILE = SECRETS_DIR / "erlang_cookie"


def deployment_secret(path: Path, env_var: str, make: Callable[[], str]) -> str:
    """A secret of this deployment: $env_var, else the one generated into `path` the first time
    (owner-only, never through a planted symlink), so no two checkouts share one and none is in
    the repository."""
    given = os.environ.get(env_var)
    if given:
        return given
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(make())
    return path.read_text(encoding="ascii").strip()


def token_secret(path: Path = SECRET_FILE) -> str:
    """The key that signs bearer tokens ($ECOECO_TOKEN_SECRET or generated)."""
    return deployment_secret(path, "ECOECO_TOKEN_SECRET", lambda: secrets.token_urlsafe(32))


def pg_roles() -> tuple[str, ...]:
    """Every service's PostgreSQL login role (docker-compose.yml's PG_APP_ROLES)."""
    return tuple(r for roles in topology.load().app_roles.values() for r in roles)


def pg_password(role: str) -> str:
    """A service role's PostgreSQL password ($ECOECO_PG_PW_<ROLE> or generated)."""
    return deployment_secret(SECRETS_DIR / f"pg_{role}", f"ECOECO_PG_PW_{role.upper()}", lambda: secrets.token_hex(16))


def service_dsn(role: str) -> str:
    """The DSN a service connects with from inside the stack, as its own role."""
    where = topology.load()
    server = where.role_server(role)
    return f"postgresql://{role}:{pg_password(role)}@{server}:{topology.PG_PORT}/{where.databases[server]}"


_DSN_REF = re.compile(r"\{dsn:([a-z_]+)\}")


def erlang_cookie(path: Path = COOKIE_FILE) -> str:
    """The RabbitMQ nodes' shared Erlang cookie ($ECOECO_ERLANG_COOKIE or generated): whoever knows
    it can run any command on the broker, so it is no more published than the token secret."""
    return deployment_secret(path, "ECOECO_ERLANG_COOKIE", lambda: secrets.token_hex(24))


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
