"""Freeze a service's containers (cgroup freezer): processes hang, sockets stay open, nothing answers."""

from __future__ import annotations

from typing import Any

import docker.errors
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.base import Fault, FaultError
from faults.target import Project, state


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
                try:
                    c.pause()
                except docker.errors.APIError as exc:
                    raise FaultError(f"could not pause {c.name}: {exc}") from exc

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
