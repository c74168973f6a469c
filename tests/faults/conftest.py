"""Throwaway containers for the fault tests, labelled like a compose project of our own, always removed."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from docker.models.containers import Container
from docker.models.networks import Network
from docker.models.volumes import Volume

from faults.target import COMPOSE_NETWORK, COMPOSE_PROJECT, COMPOSE_SERVICE, COMPOSE_VOLUME, OUR_LABEL, Project
from faults.wait import until

PROJECT = "ecoeco-faults-test"
PREFIX = f"{PROJECT}-"
BASE_IMAGE = os.environ.get("ECOECO_BASE_IMAGE", "debian:bookworm-slim")
# A main process that exits on SIGTERM (a bare `sleep` as PID 1 ignores it and docker stop waits 10 s).
IDLE = ("sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait")
log = logging.getLogger(__name__)


def remove_test_objects(client: docker.DockerClient) -> None:
    """Remove every container, network and volume of the test project (by label and by name prefix)."""
    containers = {c.id: c for c in client.containers.list(all=True, filters={"label": f"{OUR_LABEL}={PROJECT}"})}
    containers.update(
        {c.id: c for c in client.containers.list(all=True, filters={"name": PREFIX}) if c.name.startswith(PREFIX)}
    )
    for c in containers.values():
        with contextlib.suppress(docker.errors.NotFound):
            c.remove(force=True, v=True)
    for net in client.networks.list(filters={"label": f"{OUR_LABEL}={PROJECT}"}):
        with contextlib.suppress(docker.errors.APIError):
            net.remove()
    for vol in client.volumes.list(filters={"label": f"{OUR_LABEL}={PROJECT}"}):
        try:
            vol.remove(force=True)
        except docker.errors.APIError as exc:  # teardown logs rather than hiding the test's own failure
            log.warning("could not remove volume %s: %s", vol.name, exc)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A Docker client; without an engine these tests skip on a laptop, and fail where one is
    expected (ECOECO_REQUIRE_DOCKER=1, set by scripts/test.sh: CI must not pass by skipping them)."""
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        if os.environ.get("ECOECO_REQUIRE_DOCKER") == "1":
            pytest.fail(f"Docker engine expected (ECOECO_REQUIRE_DOCKER=1) but not available: {exc}")
        pytest.skip(f"Docker engine not available: {exc}")
    remove_test_objects(client)  # leftovers of an interrupted earlier run
    yield client
    remove_test_objects(client)


def require_image(client: docker.DockerClient, name: str, wait_s: float = 0.0) -> str:
    """The local image `name` (never pulled), or skip; optionally wait for another engineer's build."""
    try:
        until(lambda: client.images.list(name=name), timeout_s=wait_s, what=f"image {name}", interval_s=2)
    except TimeoutError:
        pytest.skip(f"image {name} not built on this machine (scripts/setup.sh builds it; nothing is pulled)")
    return name


class TestProject:
    """Creates containers, one network and volumes carrying compose-like labels of PROJECT."""

    __test__ = False  # not a test class

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.stack = Project(client, PROJECT)
        self.suffix = secrets.token_hex(3)
        self._network: Network | None = None

    def labels(self, **extra: str) -> dict[str, str]:
        return {OUR_LABEL: PROJECT, COMPOSE_PROJECT: PROJECT, **extra}

    def network(self) -> Network:
        """The project's `backend` network (created on first use)."""
        if self._network is None:
            self._network = self.client.networks.create(
                f"{PREFIX}backend-{self.suffix}", driver="bridge", labels=self.labels(**{COMPOSE_NETWORK: "backend"})
            )
        return self._network

    def volume(self, name: str, **driver_opts: str) -> Volume:
        """A named volume labelled as compose volume `name`."""
        return self.client.volumes.create(
            f"{PREFIX}{name}-{self.suffix}",
            driver="local",
            driver_opts=driver_opts,
            labels=self.labels(**{COMPOSE_VOLUME: name}),
        )

    def run(
        self,
        service: str,
        image: str = BASE_IMAGE,
        command: Sequence[str] | None = IDLE,
        restart: str = "always",
        labels: dict[str, str] | None = None,
        name_suffix: str = "",
        **kwargs: Any,
    ) -> Container:
        """Start a container of `service` on the backend network with the service name as DNS alias.

        `command=None` runs the image's own entrypoint and command.
        """
        policy = {"Name": restart} if restart != "no" else None
        container = self.client.containers.create(
            image,
            command=None if command is None else list(command),
            name=f"{PREFIX}{service}-{self.suffix}{name_suffix}",
            labels=labels if labels is not None else self.labels(**{COMPOSE_SERVICE: service}),
            restart_policy=policy,
            network=self.network().name,
            **kwargs,
        )
        # Re-attach with the alias compose would give it, before it starts.
        self.network().disconnect(container)
        self.network().connect(container, aliases=[service, container.name])
        container.start()
        until(
            lambda: container.reload() or container.status == "running", timeout_s=30, what=f"{container.name} running"
        )
        return container


@pytest.fixture
def proj(docker_client: docker.DockerClient, base_image: str) -> Iterator[TestProject]:
    """A fresh test project; everything in it is removed afterwards, also on failure."""
    project = TestProject(docker_client)
    try:
        yield project
    finally:
        remove_test_objects(docker_client)


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """debian:bookworm-slim (or ECOECO_BASE_IMAGE), waited for up to 10 minutes if a build is running."""
    return require_image(docker_client, BASE_IMAGE, wait_s=float(os.environ.get("ECOECO_IMAGE_WAIT_S", "600")))


@pytest.fixture
def loop_ext4(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB ext4 image loop-mounted at a temporary directory (root only)."""
    if os.geteuid() != 0:
        pytest.skip("loop-mounting an ext4 image needs root")
    image, mountpoint = tmp_path / "disk.img", tmp_path / "mnt"
    mountpoint.mkdir()
    subprocess.run(["truncate", "-s", "16M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
