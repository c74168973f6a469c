"""Waiting for a freshly started stack the way a patient operator would: poll every service's
health, give a service that is slow a second chance (restart it once), and when it really will
not come up, say which service, how long it was waited for, its last log lines, and what to do.

Why the bounds: on this machine a quiet start takes 22-30 s, RabbitMQ forming its cluster being
the critical path (21-26 s on two busy cores); beside another heavy job (a pip install) one
node was seen still unhealthy past a minute. A service gets SECOND_CHANCE_S (three quiet starts)
before it is restarted, and the whole start START_TIMEOUT_S (ten quiet starts, two chances each).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

START_TIMEOUT_S = 300.0
SECOND_CHANCE_S = 90.0
LOG_LINES = 15


class StackStartError(RuntimeError):
    """The stack did not become healthy: the message says which service, for how long, and why."""


@dataclass
class StartWatch:
    """Tracks how long each service has been unhealthy and which ones were restarted."""

    second_chance_s: float = SECOND_CHANCE_S
    since: dict[str, float] = field(default_factory=dict)
    restarted: set[str] = field(default_factory=set)

    def due_for_restart(self, health: dict[str, str], now: float) -> list[str]:
        """Services unhealthy (or not running) for longer than the second-chance bound, not yet restarted."""
        for service, status in health.items():
            if status == "healthy":
                self.since.pop(service, None)
            else:
                self.since.setdefault(service, now)
        return [s for s, t in self.since.items() if now - t >= self.second_chance_s and s not in self.restarted]


def await_healthy(
    health: Callable[[], dict[str, str]],
    restart: Callable[[str], None],
    logs: Callable[[str], str],
    *,
    timeout_s: float = START_TIMEOUT_S,
    second_chance_s: float = SECOND_CHANCE_S,
    poll_s: float = 1.0,
) -> float:
    """Poll until every service is healthy; returns the seconds it took. A service unhealthy for
    `second_chance_s` is restarted once; past `timeout_s`, StackStartError names what is still
    not healthy with its last log lines."""
    started = time.monotonic()
    watch = StartWatch(second_chance_s)
    last: dict[str, str] = {}
    while True:
        now = time.monotonic()
        last = health()
        if last and all(s == "healthy" for s in last.values()):
            return now - started
        if now - started >= timeout_s:
            break
        for service in watch.due_for_restart(last, now):
            watch.restarted.add(service)
            restart(service)
        time.sleep(poll_s)
    waited = time.monotonic() - started
    bad = {s: h for s, h in last.items() if h != "healthy"} or {"(no container)": "missing"}
    lines = [f"the stack did not become healthy within {waited:.0f} s:"]
    for service, status in sorted(bad.items()):
        again = " (restarted once, still not healthy)" if service in watch.restarted else ""
        lines.append(f"  {service}: {status}{again}; its last log lines:")
        lines += [f"    | {line}" for line in logs(service).splitlines()[-LOG_LINES:]]
    lines.append(
        "What to do: a busy machine slows the RabbitMQ cluster most; run again when the machine is "
        "quieter, or look at `docker compose logs <service>` (ECOECO_KEEP_STACK=1 keeps it up)."
    )
    raise StackStartError("\n".join(lines))
