"""When each service's container was dead during a scenario, from Docker's own events.

A request sent after a container died and answered (a reset by Docker's port proxy) before it
started again reached no process: core.ledger.unheard turns such unknown outcomes into refusals.
Docker keeps only its last few hundred events and the health checks' execs crowd them out within
a minute, so the events are watched live from before the injection, not read back at the audit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import docker

from faults.target import COMPOSE_SERVICE, OUR_LABEL

log = logging.getLogger(__name__)


def death_spans(events: list[tuple[float, str, str]], now: float) -> dict[str, list[tuple[float, float]]]:
    """Fold (time, "die" | "start", service) events into service -> [(died, started again)]; a
    death not followed by a start is open until `now`."""
    spans: dict[str, list[tuple[float, float]]] = {}
    dead_since: dict[str, float] = {}
    for at, action, service in sorted(events):
        if action == "die":
            dead_since.setdefault(service, at)
        elif action == "start" and service in dead_since:
            spans.setdefault(service, []).append((dead_since.pop(service), at))
    for service, at in dead_since.items():
        spans.setdefault(service, []).append((at, now))
    return spans


class DeathWatch:
    """Deaths and starts of one compose project's containers, from start() to stop()."""

    def __init__(self, client: docker.DockerClient, project: str) -> None:
        self._client, self._label = client, f"{OUR_LABEL}={project}"
        self._events: list[tuple[float, str, str]] = []
        self._stream: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Subscribe (returns once Docker's stream is open, so nothing after it is missed)."""
        self._stream = self._client.events(
            filters={"type": "container", "event": ["die", "start"], "label": self._label}, decode=True
        )
        self._thread = threading.Thread(target=self._read, name="death-watch", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for event in self._stream:
                attributes = event.get("Actor", {}).get("Attributes", {})
                if COMPOSE_SERVICE in attributes:
                    action = event.get("Action") or event.get("status", "")
                    self._events.append((int(event["timeNano"]) / 1e9, action, attributes[COMPOSE_SERVICE]))
        except Exception as exc:  # the stream closed by stop(), or Docker went away
            log.debug("death watch ended: %r", exc)

    def spans(self) -> dict[str, list[tuple[float, float]]]:
        """service -> [(died, started again)] so far."""
        return death_spans(list(self._events), time.time())

    def stop(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
