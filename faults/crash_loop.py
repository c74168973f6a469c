"""A crash loop: the service's main process is SIGKILLed again each time the restart policy
brings it back, until heal. Like a pod in CrashLoopBackOff, the service stays down for the
whole injection, long enough for an alert window to see it; after heal the restart policy
(with Docker's grown restart delay) repairs it by itself.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import docker.errors
from docker.models.containers import Container

from faults.base import Evidence, Fault
from faults.crash import await_restart
from faults.target import Stack, is_running


class CrashLoop(Fault):
    """SIGKILL the service's main process whenever it runs, from inject until heal."""

    name = "crash_loop"

    def __init__(self, stack: Stack, service: str, poll_s: float = 0.05) -> None:
        self.stack, self.service, self.poll_s = stack, service, poll_s
        self.kills = 0
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._container: Container | None = None
        self._last_error = ""
        self.grace_s = 15.0  # Docker's restart delay has grown during the loop (100 ms, doubling)

    def inject(self) -> None:
        """Start killing (the first kill happens before this returns)."""
        self._container = self.stack.container(self.service)
        self._kill_if_running()
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name=f"crash-loop-{self.service}", daemon=True)
        self._thread.start()

    def _kill_if_running(self) -> None:
        assert self._container is not None
        try:
            self._container.reload()
            state = self._container.attrs["State"]
            if state["Running"] and state["Pid"]:
                os.kill(int(state["Pid"]), signal.SIGKILL)
                self.kills += 1
        except (ProcessLookupError, docker.errors.APIError) as exc:
            self._last_error = repr(exc)  # it died or restarted in between: the next poll decides

    def _loop(self) -> None:
        while not self._halt.wait(self.poll_s):
            self._kill_if_running()

    def heal(self) -> None:
        """Stop killing; the restart policy brings the service back (started by hand if it does not)."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._container is not None:
            await_restart(self._container, self.grace_s)

    def evidence(self) -> list[Evidence]:
        """Killed at least once, and down right now (while the loop runs)."""
        down = self._container is not None and not _running(self._container)
        return [Evidence(f"crash-loop:{self.service}", self.kills >= 1 and (down or self.kills >= 2),
                         f"{self.kills} SIGKILLs of the main process; down now={down} {self._last_error}".strip())]

    def describe(self) -> dict[str, Any]:
        """Service and poll period."""
        return {"fault": self.name, "service": self.service, "poll_s": self.poll_s}


def _running(container: Container) -> bool:
    try:
        return is_running(container)
    except docker.errors.NotFound:
        return False
