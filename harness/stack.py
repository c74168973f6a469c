"""The system under test as one handle: bring the compose stack up once, check it, tear it down.

testcontainers' DockerCompose drives `docker compose` (Ryuk disabled: no image can be pulled
here); the Docker SDK answers state questions and removes leftovers by label, also after a
crash of an earlier run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pika.exceptions
import psycopg2
from docker.models.containers import Container

from faults.gpt_outage import reset_control
from faults.nemesis import heal_leftovers
from faults.target import OUR_LABEL, Project, service_of, volume_host_path
from faults.wait import until
from harness import disks, observe
from harness.config import REPO_ROOT, HarnessConfig
from harness.startup import START_TIMEOUT_S, StackStartError, await_healthy
from system import topology

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
from testcontainers.compose import DockerCompose

log = logging.getLogger(__name__)


class Stack:
    """The compose project of one run."""

    def __init__(self, config: HarnessConfig) -> None:
        self.config = config
        self.client = docker.from_env()
        self.targets = Project(self.client, config.project)  # the one container resolver (faults/target.py)
        self.compose = DockerCompose(
            str(REPO_ROOT), compose_file_name="docker-compose.yml", wait=True, keep_volumes=False
        )

    def _environ(self) -> None:
        os.environ.update(self.config.compose_env())
        self.config.control_dir.mkdir(parents=True, exist_ok=True)

    def up(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start every service and wait until all are healthy (ECOECO_REUSE_STACK=1 reuses a healthy one).

        StackStartError (a few lines: which service, how long, its logs) when it will not come up."""
        self._environ()
        if os.environ.get("ECOECO_REUSE_STACK") == "1" and self.all_healthy():
            for action in heal_leftovers(self.client, self.config.project, self.config.control_dir / "gpt.json"):
                log.info("healed leftover: %s", action)
            return
        remove_leftovers(self.client, self.config.project)
        disks.prepare(self.config.project)
        reset_control(self.config.control_dir / "gpt.json")  # a fresh stack starts with a healthy GPT
        try:
            self._compose("up", "-d")  # without --wait: the waiting below knows how to be patient
        except RuntimeError as exc:
            raise StackStartError(f"docker compose up failed: {exc}") from None
        took = await_healthy(self.health, self.restart_service, self.logs, timeout_s=timeout_s)
        log.info("every service healthy after %.1f s", took)

    def restart_service(self, service: str) -> None:
        """Restart a service that is slow to come up (unpausing it first if it is paused)."""
        log.warning("%s is still not healthy: restarting it once", service)
        for c in self.targets.containers(service):
            c.reload()
            if c.status == "paused":
                c.unpause()
            c.restart(timeout=10)

    def logs(self, service: str, lines: int = 40) -> str:
        """The last log lines of a service's containers."""
        try:
            return "\n".join(c.logs(tail=lines).decode(errors="replace") for c in self.targets.containers(service))
        except Exception as exc:  # the message about a failed start must not fail itself
            return f"(no logs: {exc})"

    def restart_with(self, services: list[str], env: dict[str, str], reset_queues: bool = False) -> None:
        """Recreate some services with extra environment (used by the planted-defect controls).

        --no-deps: a setting interpolated into every service (the restart policy) would otherwise
        recreate the services' dependencies too, the whole RabbitMQ cluster at once among them;
        a control plants its defect in the named services only. `reset_queues`: the defect changes
        the queues' type, so the services are stopped and every queue deleted first (RabbitMQ
        refuses to redeclare a queue with other arguments).
        """
        os.environ.update({k: self.config.resolve(v) for k, v in env.items()})
        if reset_queues:
            self._compose("stop", *services)
            delete_queues(self.config)
        self._compose("up", "--wait", "--no-deps", *services)
        until(self.all_healthy, timeout_s=120, what=f"{services} healthy after recreate")

    def _compose(self, *args: str) -> None:
        cmd = [*self.compose.compose_command_property, *args]
        done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")

    def down(self) -> None:
        """Stop and remove containers, networks and volumes of this project."""
        try:
            self.compose.stop(down=True)
        except Exception as exc:  # teardown must not hide the test's own failure
            log.warning("compose down failed: %s", exc)
        remove_leftovers(self.client, self.config.project)
        disks.release(self.config.project)

    def url(self, service: str) -> str:
        """Base URL of a service on the loopback (faults.kinds.Context)."""
        return self.config.url(service)

    def ready_check(self, service: str) -> Callable[[], bool]:
        """True while the service does its real work: a database answers a query, anything else
        its /health with 200 (faults.kinds.Context)."""
        if service in topology.load().databases:

            def database() -> bool:
                try:
                    with contextlib.closing(psycopg2.connect(self.config.dsn(service))) as conn, conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    return True
                except psycopg2.Error:
                    return False

            return database

        def http() -> bool:
            try:
                return httpx.get(f"{self.url(service)}/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        return http

    def work_in_hand(self, service: str) -> Callable[[], bool] | None:
        """For a worker: True while its WAL holds rows taken and not done (faults.kinds.Context)."""
        if service not in topology.load().workers:
            return None

        def holding() -> bool:
            try:
                return observe.wal_in_hand(self.wal_host_path(service)) > 0
            except Exception:  # down (no container to resolve) or the file locked: nothing seen
                return False

        return holding

    def replayed(self, service: str) -> Callable[[], bool] | None:
        """For a worker: True once its current process republished WAL rows at start (faults.kinds.Context)."""
        if service not in topology.load().workers:
            return None
        counter = observe.replayed_rows(service)

        def replayed() -> bool:
            snap = observe.scrape(f"{self.url(service)}/metrics")
            if snap.samples is None:  # unread is not "replayed nothing": no kill on a failed scrape
                return True
            return (snap.total(counter.metric, counter.labels) or 0) > 0

        return replayed

    @property
    def gpt_control_file(self) -> Path:
        """The GPT fake's control file (faults.kinds.Context)."""
        return self.config.control_dir / "gpt.json"

    def containers(self) -> list[Container]:
        """All containers of this project."""
        return self.targets.all_containers()

    def container(self, service: str) -> Container:
        """The container of one compose service."""
        return self.targets.container(service)

    def health(self) -> dict[str, str]:
        """service -> docker health status ('healthy', 'unhealthy', 'starting', or the state)."""
        out: dict[str, str] = {}
        for c in self.containers():
            c.reload()
            state: dict[str, Any] = c.attrs["State"]
            service = service_of(c)
            health = state.get("Health", {}).get("Status", state["Status"])
            out[service] = health if state["Running"] else state["Status"]
        return out

    def all_healthy(self) -> bool:
        """True when every container of the project is running and healthy."""
        health = self.health()
        return bool(health) and all(s == "healthy" for s in health.values())

    def unhealthy(self) -> dict[str, str]:
        """Services that are not healthy right now."""
        return {s: h for s, h in self.health().items() if h != "healthy"}

    def wal_host_path(self, worker: str) -> str:
        """Host path of a worker's WAL file (inside its named volume)."""
        for mount in self.container(worker).attrs["Mounts"]:
            if mount.get("Destination") == "/var/lib/ecoeco/wal":
                return os.path.join(volume_host_path(self.client.volumes.get(mount["Name"])), "task_queue.db")
        raise LookupError(f"{worker} has no WAL volume mounted")


def remove_leftovers(client: docker.DockerClient, project: str | None = None) -> int:
    """Remove containers, networks and volumes carrying our label (one project or all)."""
    selector = f"{OUR_LABEL}={project}" if project else OUR_LABEL
    removed = 0
    for c in client.containers.list(all=True, filters={"label": selector}):
        try:
            c.remove(force=True, v=True)
            removed += 1
        except docker.errors.APIError as exc:
            log.warning("could not remove %s: %s", c.name, exc)
    for n in client.networks.list(filters={"label": selector}):
        try:
            n.remove()
        except docker.errors.APIError as exc:
            log.warning("could not remove network %s: %s", n.name, exc)
    for v in client.volumes.list(filters={"label": selector}):
        try:
            v.remove(force=True)
        except docker.errors.APIError as exc:
            log.warning("could not remove volume %s: %s", v.name, exc)
    return removed


def delete_queues(config: HarnessConfig) -> None:
    """Delete every queue of the topology (their messages with them); the services declare them again."""
    with observe.amqp_channel(config) as ch:
        for q in observe.QUEUES:
            try:
                ch.queue_delete(q)
            except pika.exceptions.ChannelClosedByBroker:  # not there: nothing to delete
                ch = ch.connection.channel()
