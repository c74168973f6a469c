"""Where the stack is, seen from the host: every service's published ports and databases, read
from docker-compose.yml, the one place they are written.

Host ports are `127.0.0.1:<prefix><NN>` (`${ECOECO_PORT_PREFIX:-170}NN` in the compose file), so two
projects with different prefixes can run side by side. The harness, the load, the ops scripts and
the tests all ask here; nothing else holds a port table. The broker's queues are the system's own
(system/broker.py). Host-side only: the compose file is not inside the images.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
PORT_PREFIX_ENV = "ECOECO_PORT_PREFIX"
DEFAULT_PORT_PREFIX = "170"
API_PORT, WORKER_PORT, AMQP_PORT, PG_PORT = 8000, 9090, 5672, 5432
_MAPPING = re.compile(r"^127\.0\.0\.1:\$\{ECOECO_PORT_PREFIX:-\d+\}(\d{2}):(\d+)$")


class TopologyError(ValueError):
    """docker-compose.yml does not publish a port the way this module reads it."""


@dataclass(frozen=True)
class Published:
    """One published port: `service`'s `container_port` at 127.0.0.1:<prefix><suffix>."""

    service: str
    suffix: str
    container_port: int


@dataclass(frozen=True)
class Topology:
    """What docker-compose.yml says about the services the host reaches."""

    published: tuple[Published, ...]
    databases: Mapping[str, str]  # PostgreSQL service -> its database (PG_DATABASE)
    app_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # PG service -> services' roles

    def role_server(self, role: str) -> str:
        """The PostgreSQL service whose database a service role belongs to."""
        return next(server for server, roles in self.app_roles.items() if role in roles)

    def suffix(self, service: str, container_port: int | None = None) -> str:
        """The host port suffix NN of `service` (its first published port, or the one of `container_port`)."""
        for p in self.published:
            if p.service == service and container_port in (None, p.container_port):
                return p.suffix
        where = f" port {container_port}" if container_port is not None else ""
        raise KeyError(f"docker-compose.yml publishes no{where} for service {service!r}")

    def serving(self, container_port: int, prefix: str = "") -> tuple[str, ...]:
        """Services publishing `container_port` (e.g. 8000: the APIs), whose name starts with `prefix`."""
        return tuple(
            p.service for p in self.published if p.container_port == container_port and p.service.startswith(prefix)
        )

    @property
    def apis(self) -> tuple[str, ...]:
        return self.serving(API_PORT)

    @property
    def workers(self) -> tuple[str, ...]:
        return self.serving(WORKER_PORT, "worker-")

    @property
    def broker_nodes(self) -> tuple[str, ...]:
        return self.serving(AMQP_PORT)


def parse(compose: Mapping[str, Any]) -> Topology:
    """The topology of a parsed compose document."""
    published: list[Published] = []
    databases: dict[str, str] = {}
    roles: dict[str, tuple[str, ...]] = {}
    for service, spec in (compose.get("services") or {}).items():
        for entry in spec.get("ports") or ():
            m = _MAPPING.match(str(entry))
            if not m:
                raise TopologyError(
                    f"{service}: port {entry!r} is not 127.0.0.1:${{ECOECO_PORT_PREFIX:-170}}NN:<container port>"
                )
            published.append(Published(service, m.group(1), int(m.group(2))))
        env = spec.get("environment") or {}
        if isinstance(env, Mapping) and env.get("PG_DATABASE"):
            databases[service] = str(env["PG_DATABASE"])
        if isinstance(env, Mapping) and env.get("PG_APP_ROLES"):  # "name" or "name:read", space-separated
            roles[service] = tuple(r.split(":")[0] for r in str(env["PG_APP_ROLES"]).split())
    suffixes = [p.suffix for p in published]
    if len(set(suffixes)) != len(suffixes):
        raise TopologyError(f"two published ports share a suffix: {sorted(suffixes)}")
    return Topology(tuple(published), databases, roles)


@cache
def load(path: Path = COMPOSE_FILE) -> Topology:
    """The topology of the repository's docker-compose.yml (read once)."""
    import yaml  # host side only (PyYAML comes with the harness's environment)

    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))


def port_prefix(env: Mapping[str, str] | None = None) -> str:
    """`ECOECO_PORT_PREFIX` (default 170), refused when it cannot make a port for every suffix."""
    raw = (os.environ if env is None else env).get(PORT_PREFIX_ENV) or DEFAULT_PORT_PREFIX
    if not raw.isdigit() or int(raw + "99") > 65535:
        raise ValueError(f"{PORT_PREFIX_ENV}={raw!r} does not make valid ports (digits, and {raw}99 <= 65535)")
    return raw


def host_port(service: str, container_port: int | None = None, prefix: str | None = None) -> int:
    """The 127.0.0.1 port of a service (of its `container_port` when it publishes several)."""
    return int((prefix if prefix is not None else port_prefix()) + load().suffix(service, container_port))


def url(service: str, container_port: int | None = None, prefix: str | None = None) -> str:
    """http://127.0.0.1:<port> of a service."""
    return f"http://127.0.0.1:{host_port(service, container_port, prefix)}"
