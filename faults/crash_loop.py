"""A crash loop: the service's main process is SIGKILLed again each time the restart policy
brings it back, until heal. Like a pod in CrashLoopBackOff, the service stays down for the
whole injection, long enough for an alert window to see it; after heal the restart policy
(with Docker's grown restart delay) repairs it by itself.

With `busy_url` (or any `ready` check), heal ends the loop with one more kill of a busy service:
it waits until the service answers (for a worker: recovered and consuming the backlog the outage
built up; for a database: taking the writes that waited), lets it work `busy_s`, and kills it
with that work in hand. A crash that only ever hits a
process still starting proves nothing about the work a running one holds.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import docker.errors
import httpx
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.base import Fault, FaultError, wait_for
from faults.crash import await_restart
from faults.target import Project, is_running

READY_TIMEOUT_S = 60.0
HOLDING_WAIT_S = 10.0
# A last kill that met no work in hand (the rows completed between the look and the signal) makes
# a restart that replays nothing: the kill is tried again, up to this many times.
REPLAY_RETRIES = 3
# Docker resets a container's doubled restart delay once it has run 10 s: a retry kill sooner
# would grow the delay past grace_s and read as a restart policy that failed (self_repair).
DELAY_RESET_S = 10.5


class CrashLoop(Fault):
    """SIGKILL the service's main process whenever it runs, from inject until heal."""

    name = "crash_loop"

    def __init__(
        self,
        stack: Project,
        service: str,
        poll_s: float = 0.05,
        busy_url: str | None = None,
        busy_s: float = 1.0,
        ready: Callable[[], bool] | None = None,
        loop: bool = True,
        busy_kills: int = 1,
        holding: Callable[[], bool] | None = None,
        replayed: Callable[[], bool] | None = None,
    ) -> None:
        self.stack, self.service, self.poll_s = stack, service, poll_s
        self.busy_url, self.busy_s = busy_url, busy_s
        # after busy_s the last kill waits (up to HOLDING_WAIT_S) for work in hand: a worker between
        # two tasks has none, and its restart would replay nothing
        self.holding = holding
        self.held_at_kill: bool | None = None
        # once it serves again after the last kill: did its start replay the work it held?
        self.replayed = replayed
        self.replay_retries = 0
        self._ready = ready or (self._answers if busy_url else None)
        # loop=False: one kill at inject, none while it restarts (Docker's restart delay stays short),
        # then `busy_kills` kills of the busy service at heal
        self.loop, self.busy_kills = loop, busy_kills
        self.kills = 0
        self.busy_killed = False
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._container: Container | None = None
        self._last_error = ""
        self._last_kill_at: float | None = None
        self._back_at = 0.0
        self._by_hand: list[str] = []
        self._first_started = ""
        self.grace_s = 15.0  # Docker's restart delay has grown during the loop (100 ms, doubling)

    def inject(self) -> None:
        """Start killing (the first kill happens before this returns)."""
        self._container = self.stack.container(self.service)
        self._first_started = self._started_at()
        self._kill_if_running()
        if self.loop:
            self._halt.clear()
            self._thread = threading.Thread(target=self._loop, name=f"crash-loop-{self.service}", daemon=True)
            self._thread.start()

    def _kill_if_running(self) -> bool:
        assert self._container is not None
        try:
            self._container.reload()
            state = self._container.attrs["State"]
            if state["Running"] and state["Pid"]:
                os.kill(int(state["Pid"]), signal.SIGKILL)
                self.kills += 1
                self._last_kill_at = time.time()
                return True
        except (ProcessLookupError, docker.errors.APIError) as exc:
            self._last_error = repr(exc)  # it died or restarted in between: the next poll decides
        return False

    def _loop(self) -> None:
        while not self._halt.wait(self.poll_s):
            self._kill_if_running()

    def _restarted(self) -> None:
        assert self._container is not None
        if await_restart(self._container, self.grace_s):
            self._by_hand.append(str(self._container.name))
        self._back_at = time.monotonic()

    def _answers(self) -> bool:
        assert self.busy_url is not None
        try:
            return httpx.get(self.busy_url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def heal(self) -> None:
        """Stop killing; the restart policy brings the service back (started by hand if it does not).
        With a ready check: one last kill once it serves again, then the same repair."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._container is None:
            return
        self._restarted()
        ready = self._ready
        if ready is None or self.busy_killed:
            return
        kills_left = self.busy_kills
        while kills_left > 0:
            kills_left -= 1
            try:
                wait_for(
                    ready,
                    timeout_s=READY_TIMEOUT_S,
                    what=f"{self.service} serving before the last kill",
                    interval_s=0.1,
                )
            except FaultError as exc:
                self._last_error = str(exc)
                return
            time.sleep(self.busy_s)  # a duration of work in hand, not a wait for a state
            if self.holding is not None:
                with contextlib.suppress(FaultError):
                    wait_for(
                        self.holding, timeout_s=HOLDING_WAIT_S, what=f"{self.service} holding work", interval_s=0.02
                    )
                self.held_at_kill = self.holding()
            started = self._started_at()
            self.busy_killed = self._kill_if_running()
            if self.busy_killed:  # the kill must be seen before waiting for the repair, or a process
                # still dying would count as restarted already
                with contextlib.suppress(FaultError):
                    wait_for(
                        functools.partial(self._gone_since, started),
                        timeout_s=10,
                        what=f"{self.service} down after the last kill",
                        interval_s=0.05,
                    )
            self._restarted()
            if not kills_left and self.busy_killed and self._replayed_nothing(ready):
                self.replay_retries += 1
                kills_left = 1
                # Docker's reset timer is not observable: wait it out before the next kill
                time.sleep(max(0.0, self._back_at + DELAY_RESET_S - time.monotonic()))

    def _replayed_nothing(self, ready: Callable[[], bool]) -> bool:
        """The service serves again and its start replayed nothing, with retries left."""
        if self.replayed is None or self.replay_retries >= REPLAY_RETRIES:
            return False
        try:
            wait_for(
                ready, timeout_s=READY_TIMEOUT_S, what=f"{self.service} serving after the last kill", interval_s=0.1
            )
        except FaultError:
            return False
        return not self.replayed()

    def _gone_since(self, started: str) -> bool:
        """The container stopped, or came back as a new process since `started`."""
        return not _running(self._container) or self._started_at() != started

    def _started_at(self) -> str:
        assert self._container is not None
        self._container.reload()
        return str(self._container.attrs["State"]["StartedAt"])

    def released_at(self) -> float | None:
        """The last SIGKILL: from then on only the restart policy can repair."""
        return self._last_kill_at

    def started_by_hand(self) -> list[str]:
        """The container, if the restart policy did not bring it back within `grace_s`."""
        return list(self._by_hand)

    def evidence(self) -> list[EffectCheck]:
        """Killed at least once, and the kill took: down right now (while the loop runs), or killed
        again, or back as a new process (one kill without the loop: the restart policy was quick)."""
        down = self._container is not None and not _running(self._container)
        restarted = not down and self._container is not None and self._gone_since(self._first_started)
        return [
            EffectCheck(
                f"crash-loop:{self.service}",
                self.kills >= 1 and (down or self.kills >= 2 or restarted),
                f"{self.kills} SIGKILLs of the main process; down now={down}, restarted since={restarted}"
                + ("" if self.held_at_kill is None else f", work in hand at the last kill={self.held_at_kill}")
                + (f", killed again {self.replay_retries}x: its start replayed nothing" if self.replay_retries else "")
                + f" {self._last_error}".rstrip(),
            )
        ]

    def describe(self) -> dict[str, Any]:
        """Service, poll period, and the last kill of a busy service."""
        return {
            "fault": self.name,
            "service": self.service,
            "poll_s": self.poll_s,
            "busy_url": self.busy_url,
            "busy_s": self.busy_s,
            "busy": self._ready is not None,
            "loop": self.loop,
            "busy_kills": self.busy_kills,
            "kills": self.kills,
            "busy_killed": self.busy_killed,
            "replay_retries": self.replay_retries,
        }


def _running(container: Container) -> bool:
    try:
        return is_running(container)
    except docker.errors.NotFound:
        return False
