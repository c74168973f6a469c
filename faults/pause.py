"""Freeze a service's containers (cgroup freezer): processes hang, sockets stay open, nothing answers."""

from __future__ import annotations

import time
from typing import Any

import docker.errors
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.base import Fault, FaultError
from faults.target import Project, state

FREEZE_ATTEMPTS = 3
FREEZE_RETRY_S = 0.5


def freeze(c: Container) -> None:
    """`docker pause`, tried again when runc gave up: it thaws a cgroup whose tasks did not all
    freeze in time ("unable to freeze", seen on a broker node busy catching up on disk)."""
    for attempt in range(1, FREEZE_ATTEMPTS + 1):
        try:
            c.pause()
            return
        except docker.errors.APIError as exc:
            if "unable to freeze" not in str(exc) or attempt == FREEZE_ATTEMPTS:
                raise FaultError(f"could not pause {c.name} ({attempt} attempts): {exc}") from exc
            time.sleep(FREEZE_RETRY_S)


class Pause(Fault):
    """`docker pause` every container of a service; heal unpauses."""

    name = "pause"

    def __init__(self, stack: Project, service: str) -> None:
        self.stack = stack
        self.service = service
        self._targets: list[Container] = []

    def inject(self) -> None:
        """Freeze the running containers of the service."""
        self._targets = self.stack.containers(self.service)
        for c in self._targets:
            st = state(c)
            if not st["Running"]:
                raise FaultError(f"cannot pause {c.name}: status {st['Status']}")
            if not st["Paused"]:
                freeze(c)

    def heal(self) -> None:
        """Unpause every target that is still paused."""
        for c in self._targets:
            try:
                if state(c)["Paused"]:
                    c.unpause()
            except docker.errors.NotFound:
                continue

    def evidence(self) -> list[EffectCheck]:
        """Per target: Docker reports it paused."""
        out = []
        for c in self._targets:
            try:
                st = state(c)
                out.append(EffectCheck(f"paused:{c.name}", bool(st["Paused"]), f"status={st['Status']}"))
            except docker.errors.NotFound:
                out.append(EffectCheck(f"paused:{c.name}", False, "container removed"))
        return out or [EffectCheck("paused", False, "nothing was paused")]

    def describe(self) -> dict[str, Any]:
        """Service."""
        return {"fault": self.name, "service": self.service}
