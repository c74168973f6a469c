"""Harness configuration: where the stack is, how fast its timers run, where a run writes."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# host port suffix per service (docs/contracts.md)
PORTS = {
    "waste-api": "01",
    "auth-api": "02",
    "userinfo-api": "03",
    "location-api": "04",
    "recycle-api": "05",
    "chat-llm-api": "06",
    "worker-storage": "11",
    "worker-ai": "12",
    "pg-auth": "21",
    "pg-waste": "22",
    "pg-chat": "23",
    "pg-location": "24",
    "pg-analytics": "25",
    "rabbitmq-1": "31",
    "rabbitmq-2": "32",
    "rabbitmq-3": "33",
    "s3": "50",
    "prometheus": "90",
    # RabbitMQ's Prometheus endpoint (15692) of each node
    "rabbitmq-1-metrics": "41",
    "rabbitmq-2-metrics": "42",
    "rabbitmq-3-metrics": "43",
}
DATABASES = {
    "pg-auth": "ecoeco_auth",
    "pg-waste": "ecoeco_waste",
    "pg-chat": "ecoeco_chat",
    "pg-location": "ecoeco_location",
    "pg-analytics": "ecoeco_waste",
}


@dataclass(frozen=True)
class HarnessConfig:
    """Everything a run needs to find and pace the system under test."""

    project: str = "ecoeco"
    port_prefix: str = "170"
    time_scale: float = 0.02
    runs_dir: Path = REPO_ROOT / "runs"
    run_id: str = ""
    unsafe: str = ""
    repeat: int = 1  # runs of each failure point (--repeat N); a point stops at its first violation

    def port(self, service: str) -> int:
        """The 127.0.0.1 port of a service."""
        return int(self.port_prefix + PORTS[service])

    def url(self, service: str) -> str:
        """Base URL of an HTTP service on the loopback."""
        return f"http://127.0.0.1:{self.port(service)}"

    def dsn(self, service: str) -> str:
        """libpq DSN of a database server from the host."""
        return (
            f"host=127.0.0.1 port={self.port(service)} dbname={DATABASES[service]} user=ecoeco "
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

    def compose_env(self) -> dict[str, str]:
        """Environment for docker compose: project, ports, time scale, planted defects, the token secret."""
        return {
            "ECOECO_PROJECT": self.project,
            "ECOECO_PORT_PREFIX": self.port_prefix,
            "ECOECO_TIME_SCALE": str(self.time_scale),
            "ECOECO_UNSAFE": self.unsafe,
            "ECOECO_TOKEN_SECRET": token_secret(),
        }


SECRET_FILE = REPO_ROOT / ".runtime" / "secrets" / "token_secret"


def token_secret(path: Path = SECRET_FILE) -> str:
    """This deployment's token secret: $ECOECO_TOKEN_SECRET, else the one generated into `path`
    the first time (owner-only), so no two checkouts share one and none is in the repository."""
    given = os.environ.get("ECOECO_TOKEN_SECRET")
    if given:
        return given
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text(encoding="ascii").strip()


def from_env() -> HarnessConfig:
    """Config from ECOECO_* variables, with a fresh run id."""
    run_id = os.environ.get("ECOECO_RUN_ID") or time.strftime("%Y%m%d-%H%M%S")
    return HarnessConfig(
        project=os.environ.get("ECOECO_PROJECT", "ecoeco"),
        port_prefix=os.environ.get("ECOECO_PORT_PREFIX", "170"),
        time_scale=float(os.environ.get("ECOECO_TIME_SCALE", "0.02")),
        runs_dir=Path(os.environ.get("ECOECO_RUNS_DIR", str(REPO_ROOT / "runs"))),
        run_id=run_id,
        unsafe=os.environ.get("ECOECO_UNSAFE", ""),
    )
