"""When each service was not serving during a scenario: from its container's death (Docker's own
events) until it started again and, for an API, until it logged that it serves (system/logs.SERVING,
logged before uvicorn opens its socket).

A request sent and answered (a reset by Docker's port proxy) inside such a span reached no serving
process: core.ledger.unheard turns those unknown outcomes into refusals. Docker keeps only its last
few hundred events and the health checks' execs crowd them out within a minute, so the events are
watched live from before the injection, not read back at the audit.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import time
from collections.abc import Collection
from typing import Any

import docker

from faults.target import COMPOSE_SERVICE, OUR_LABEL
from system.logs import SERVING

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


def until_serving(spans: list[tuple[float, float]], serving: list[float]) -> list[tuple[float, float]]:
    """Each span (died, started) extended to the first serving mark after its start, if one came
    before the next death; a span without one keeps its start (the shorter span: less is settled)."""
    out = []
    for n, (died, started) in enumerate(spans):
        next_death = spans[n + 1][0] if n + 1 < len(spans) else float("inf")
        mark = min((m for m in serving if started <= m < next_death), default=started)
        out.append((died, mark))
    return out


def log_time(stamp: str) -> float:
    """Unix time of a Docker log timestamp (RFC 3339 in UTC with up to nanoseconds)."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    at = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.UTC)
    return at.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


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

    def spans(self, apis: Collection[str] = ()) -> dict[str, list[tuple[float, float]]]:
        """service -> [(died, started again)] so far; for the services in `apis`, to serving again."""
        spans = death_spans(list(self._events), time.time())
        return {s: until_serving(v, self._serving(s, v[0][0])) if s in apis else v for s, v in spans.items()}

    def _serving(self, service: str, since: float) -> list[float]:
        """When the service's containers logged SERVING since `since` (none: not an API, or no logs)."""
        marks: list[float] = []
        try:
            for c in self._client.containers.list(
                all=True, filters={"label": [self._label, f"{COMPOSE_SERVICE}={service}"]}
            ):
                for line in c.logs(timestamps=True, since=int(since) - 1).decode(errors="replace").splitlines():
                    stamp, _, text = line.partition(" ")
                    if SERVING in text:
                        marks.append(log_time(stamp))
        except Exception as exc:  # without the marks a span ends at the start: less settled, never more
            log.warning("could not read %s's log: %r", service, exc)
        return sorted(marks)

    def stop(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
