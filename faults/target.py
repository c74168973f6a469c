"""Resolve compose services, networks and volumes of one project, refusing anything not ours."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network
from docker.models.volumes import Volume

from faults.base import FaultError

OUR_LABEL = "org.ecoeco.project"
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NETWORK = "com.docker.compose.network"
COMPOSE_VOLUME = "com.docker.compose.volume"


def default_project() -> str:
    """The compose project name: env ECOECO_PROJECT, else "ecoeco"."""
    return os.environ.get("ECOECO_PROJECT", "ecoeco")


class Project:
    """The containers, networks and volumes of one compose project (ours only)."""

    def __init__(self, client: docker.DockerClient | None = None, project: str | None = None) -> None:
        self.client = client if client is not None else docker.from_env()
        self.project = project or default_project()

    def _ours(self, kind: str, name: str, labels: dict[str, str] | None) -> None:
        # Compose labels alone could match a stranger's project of the same name: demand ours too.
        if (labels or {}).get(OUR_LABEL) != self.project:
            raise FaultError(f"refusing to touch {kind} {name}: not labelled {OUR_LABEL}={self.project}")

    def ensure_ours(self, container: Container) -> Container:
        """Return the container if it belongs to this project, else FaultError."""
        self._ours("container", container.name, container.labels)
        return container

    def containers(self, service: str) -> list[Container]:
        """Every container (running or not) of a compose service that carries our label, by name."""
        found = self.client.containers.list(
            all=True, filters={"label": [f"{COMPOSE_PROJECT}={self.project}", f"{COMPOSE_SERVICE}={service}"]}
        )
        # one-off `compose run` containers are not the service
        found = [c for c in found if c.labels.get("com.docker.compose.oneoff", "False") != "True"]
        ours = [c for c in found if c.labels.get(OUR_LABEL) == self.project]
        if not ours:
            strangers = [c.name for c in found]
            why = f"; refusing {strangers}: not labelled {OUR_LABEL}={self.project}" if strangers else ""
            raise FaultError(f"no container for service {service!r} in compose project {self.project!r}{why}")
        # compose renames the old container "<short id>_<name>" while it recreates a service
        settled = [c for c in ours if not str(c.name).startswith(f"{str(c.id)[:12]}_")]
        # a stranger reusing our compose labels (another test's container) is left alone
        return sorted(settled or ours, key=lambda c: str(c.name))

    def container(self, service: str) -> Container:
        """The single container of a compose service."""
        found = self.containers(service)
        if len(found) != 1:
            raise FaultError(f"service {service!r} has {len(found)} containers; name one of {[c.name for c in found]}")
        return found[0]

    def all_containers(self) -> list[Container]:
        """Every container carrying our project label."""
        return list(self.client.containers.list(all=True, filters={"label": f"{OUR_LABEL}={self.project}"}))

    def ids_by_service(self) -> dict[str, list[str]]:
        """Service -> ids of its containers, for every container carrying our project label."""
        out: dict[str, list[str]] = {}
        for c in self.all_containers():
            out.setdefault(service_of(c), []).append(str(c.id))
        return out

    def networks(self) -> list[Network]:
        """Every network carrying our project label."""
        return list(self.client.networks.list(filters={"label": f"{OUR_LABEL}={self.project}"}))

    def network(self, name: str = "backend") -> Network:
        """A compose network of the project by its short name (e.g. "backend")."""
        for net in self.networks():
            if net.attrs.get("Labels", {}).get(COMPOSE_NETWORK) == name or net.name == f"{self.project}_{name}":
                return net
        raise FaultError(f"no network {name!r} labelled {OUR_LABEL}={self.project}")

    def volume(self, name: str) -> Volume:
        """A compose volume of the project by its short name (e.g. "wal-storage")."""
        for vol in self.client.volumes.list(filters={"label": f"{OUR_LABEL}={self.project}"}):
            labels = vol.attrs.get("Labels") or {}
            if labels.get(COMPOSE_VOLUME) == name or vol.name == f"{self.project}_{name}":
                return vol
        raise FaultError(f"no volume {name!r} labelled {OUR_LABEL}={self.project}")

    def volumes(self) -> list[Volume]:
        """Every volume carrying our project label."""
        return list(self.client.volumes.list(filters={"label": f"{OUR_LABEL}={self.project}"}))

    def host_port(self, service: str, container_port: int, proto: str = "tcp") -> int:
        """The 127.0.0.1 host port a service publishes for `container_port` (as compose bound it)."""
        container = self.container(service)
        container.reload()
        bindings: list[dict[str, Any]] | None = container.attrs["NetworkSettings"]["Ports"].get(
            f"{container_port}/{proto}"
        )
        if not bindings:
            # a stopped container has no live bindings: fall back to the configured ones
            host_cfg = container.attrs["HostConfig"].get("PortBindings") or {}
            bindings = host_cfg.get(f"{container_port}/{proto}")
        if not bindings or not bindings[0].get("HostPort"):
            raise FaultError(f"service {service!r} publishes no host port for {container_port}/{proto}")
        return int(bindings[0]["HostPort"])


def volume_host_path(volume: Volume) -> Path:
    """Host directory of a volume: a local bind volume's `device`, else its Mountpoint."""
    options = volume.attrs.get("Options") or {}
    if "bind" in options.get("o", "").split(",") and options.get("device"):
        return Path(options["device"])
    return Path(volume.attrs["Mountpoint"])


def service_of(container: Container) -> str:
    """The compose service a container belongs to (its name when it carries no service label)."""
    return str(container.labels.get(COMPOSE_SERVICE, container.name))


def container_ips(container: Container) -> dict[str, str]:
    """network name -> IPv4 address of a running container."""
    container.reload()
    networks: dict[str, dict[str, Any]] = container.attrs["NetworkSettings"]["Networks"] or {}
    return {name: net["IPAddress"] for name, net in networks.items() if net.get("IPAddress")}


def main_pid(container: Container) -> int:
    """Host PID of a running container's main process."""
    container.reload()
    pid = int(container.attrs["State"]["Pid"])
    if not container.attrs["State"]["Running"] or pid <= 0:
        raise FaultError(f"container {container.name} is not running (status {container.status})")
    return pid


def state(container: Container) -> dict[str, Any]:
    """The container's fresh State (Status, Running, Paused, Pid, StartedAt ...)."""
    container.reload()
    result: dict[str, Any] = container.attrs["State"]
    return result


def is_running(container: Container) -> bool:
    """True when the container runs and is not frozen. Docker also says Running while a restart
    policy waits to start it again (Restarting, no process): that is not running."""
    st = state(container)
    return bool(st["Running"]) and not st["Paused"] and not st.get("Restarting", False)
