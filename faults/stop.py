"""Stop a service's containers (a clean shutdown the restart policy leaves alone); heal starts them."""

from __future__ import annotations

from functools import partial
from typing import Any

import docker.errors
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.base import Fault, FaultError, wait_for
from faults.target import Project, is_running, state


class Stop(Fault):
    """`docker stop` every container of a service; the outage lasts until heal."""

    name = "stop"

    def __init__(self, stack: Project, service: str, stop_timeout_s: int = 10) -> None:
        self.stack = stack
        self.service = service
        self.stop_timeout_s = stop_timeout_s  # SIGTERM grace before Docker sends SIGKILL
        self._targets: list[Container] = []

    def inject(self) -> None:
        """Stop the containers (Docker marks this a manual stop: no automatic restart)."""
        self._targets = self.stack.containers(self.service)
        for c in self._targets:
            try:
                c.stop(timeout=self.stop_timeout_s)
            except docker.errors.APIError as exc:
                raise FaultError(f"could not stop {c.name}: {exc}") from exc

    def heal(self) -> None:
        """Start every target that is not running (unpause a paused one); wait until it runs."""
        for c in self._targets:
            try:
                st = state(c)
                if st["Paused"]:
                    c.unpause()
                elif not st["Running"]:
                    c.start()
                wait_for(partial(is_running, c), timeout_s=30, what=f"{c.name} running again")
            except docker.errors.NotFound:
                continue

    def evidence(self) -> list[EffectCheck]:
        """Per target: its status is not running."""
        out = []
        for c in self._targets:
            try:
                st = state(c)
            except docker.errors.NotFound:
                out.append(EffectCheck(f"stopped:{c.name}", True, "container removed"))
                continue
            out.append(EffectCheck(f"stopped:{c.name}", not st["Running"], f"status={st['Status']}"))
        return out or [EffectCheck("stopped", False, "nothing was stopped")]

    def describe(self) -> dict[str, Any]:
        """Service and stop timeout."""
        return {"fault": self.name, "service": self.service, "stop_timeout_s": self.stop_timeout_s}
