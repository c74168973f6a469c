"""Crash containers the way a real process dies: SIGKILL of the main process from the host.

`docker kill` / `docker stop` count as a manual stop and the restart policy would not bring the
container back; a SIGKILL from the host is a crash, so the policy (not the harness) restarts it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import docker.errors
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.base import Fault, FaultError, wait_for
from faults.target import Project, is_running, main_pid


def _start_marker(container: Container) -> tuple[int, str]:
    """(RestartCount, StartedAt): changes whenever the container was started again."""
    container.reload()
    return int(container.attrs["RestartCount"]), str(container.attrs["State"]["StartedAt"])


class Crash(Fault):
    """SIGKILL the main process of every container of one or several services at once."""

    name = "crash"

    def __init__(
        self, stack: Project, services: str | Sequence[str], grace_s: float = 10.0, observe_s: float = 5.0
    ) -> None:
        self.stack = stack
        self.services = [services] if isinstance(services, str) else list(services)
        self.grace_s = grace_s  # how long heal lets the restart policy act before starting by hand
        self.observe_s = observe_s  # how long inject watches for the restart or the dead state
        self._before: dict[str, tuple[int, str]] = {}
        self._seen_down: dict[str, bool] = {}
        self._targets: list[Container] = []
        self._killed_at: float | None = None
        self._by_hand: list[str] = []

    def inject(self) -> None:
        """Kill all targets first, then watch, so a multi-node crash is simultaneous."""
        targets = [c for service in self.services for c in self.stack.containers(service)]
        pids = {c.id: main_pid(c) for c in targets}  # FaultError if one is not running: crash none
        self._targets = targets
        for c in targets:
            self._before[c.id] = _start_marker(c)
        for c in targets:
            try:
                os.kill(pids[c.id], signal.SIGKILL)
            except ProcessLookupError as exc:
                raise FaultError(f"main process {pids[c.id]} of {c.name} vanished before the kill") from exc
        self._killed_at = time.time()
        for c in targets:
            self._seen_down[c.id] = False

        def all_observed() -> bool:
            for c in targets:
                if not self._seen_down[c.id]:
                    restarted = _start_marker(c) != self._before[c.id]
                    self._seen_down[c.id] = restarted or not c.attrs["State"]["Running"]
            return all(self._seen_down.values())

        # not seeing it within observe_s is for evidence() to report: the kill itself happened
        with contextlib.suppress(FaultError):
            wait_for(
                all_observed,
                timeout_s=self.observe_s,
                what="crashed containers seen down or restarted",
                interval_s=0.05,
            )

    def heal(self) -> None:
        """Give the restart policy `grace_s`; start any target still not running."""
        for c in self._targets:
            if await_restart(c, self.grace_s):
                self._by_hand.append(str(c.name))

    def released_at(self) -> float | None:
        """The kill: from then on only the restart policy can repair."""
        return self._killed_at

    def started_by_hand(self) -> list[str]:
        """Targets the restart policy did not bring back within `grace_s`."""
        return list(self._by_hand)

    def evidence(self) -> list[EffectCheck]:
        """Per target: seen not running, or RestartCount / StartedAt changed since the kill."""
        out = []
        for c in self._targets:
            try:
                after = _start_marker(c)
            except docker.errors.NotFound:
                out.append(EffectCheck(f"crashed:{c.name}", False, "container no longer exists"))
                continue
            before = self._before.get(c.id)
            changed = before is not None and after != before
            ok = changed or self._seen_down.get(c.id, False)
            out.append(
                EffectCheck(
                    f"crashed:{c.name}",
                    ok,
                    f"seen down={self._seen_down.get(c.id, False)}, "
                    f"(RestartCount, StartedAt) before={before} after={after}",
                )
            )
        return out or [EffectCheck("crashed", False, "nothing was killed")]

    def describe(self) -> dict[str, Any]:
        """Services, grace and observation windows."""
        return {"fault": self.name, "services": self.services, "grace_s": self.grace_s, "observe_s": self.observe_s}


def await_restart(container: Container, grace_s: float) -> bool:
    """Wait `grace_s` for the restart policy to bring a crashed container back, else start it by
    hand; True when it had to be started by hand."""
    by_hand = False
    try:
        running = partial(is_running, container)
        if not running():
            try:
                wait_for(running, timeout_s=grace_s, what=f"{container.name} restarted by its restart policy")
            except FaultError:
                # restart policy "no", or Docker gave up: start it by hand (an APIError here
                # means Docker is restarting it right now; the wait below decides)
                by_hand = True
                with contextlib.suppress(docker.errors.APIError):
                    container.start()
        wait_for(running, timeout_s=30, what=f"{container.name} running")
    except docker.errors.NotFound:
        pass  # removed meanwhile: nothing left to heal
    return by_hand


class CrashAtHeal(Fault):
    """A crash that comes last: nothing at inject; at heal (before the faults injected with it are
    healed, an AllOf heals in reverse) SIGKILL the services at once and let their restart policy
    repair them. The restart then happens while those faults still act; a frozen service (a Pause
    injected with it) dies as soon as it is thawed, with whatever it held in its buffers."""

    name = "crash_at_heal"

    def __init__(self, stack: Project, services: str | Sequence[str], await_restart: bool = True) -> None:
        self.stack = stack
        self.services = [services] if isinstance(services, str) else list(services)
        self.await_restart = await_restart  # False: a frozen target only dies once the freeze is healed
        self._crash: Crash | None = None

    def inject(self) -> None:
        """Nothing yet."""

    def heal(self) -> None:
        """Kill now, then (unless told not to) wait for the restart, started by hand after the grace."""
        if self._crash is None:
            self._crash = Crash(self.stack, self.services, observe_s=0.0 if not self.await_restart else 5.0)
            self._crash.inject()
        if self.await_restart:
            self._crash.heal()

    def evidence(self) -> list[EffectCheck]:
        """Nothing to show before heal."""
        return [EffectCheck(f"crash-at-heal:{','.join(self.services)}", True, "armed: the kill comes at heal")]

    def describe(self) -> dict[str, Any]:
        """Services, and the crash that ran."""
        return {"fault": self.name, "services": self.services, "crash": self._crash.describe() if self._crash else None}

    def released_at(self) -> float | None:
        """The kill."""
        return self._crash.released_at() if self._crash else None

    def started_by_hand(self) -> list[str]:
        """The crash's."""
        return self._crash.started_by_hand() if self._crash else []
