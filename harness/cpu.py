"""Where the machine's CPU went in each phase of a scenario: the host's busy, steal and iowait
cores (/proc/stat) and each container's cores (its cgroup's CPU accounting).

A recovery that took long while the CPU was spent elsewhere (a broker node booting again, the
VM's host stealing cycles) reads differently from one that idled, and the record says which.
Reading the counters costs microseconds; Docker's stats API costs about a second per container.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_STAT = Path("/proc/stat")
TOP = 6  # containers named per phase, the busiest first
MIN_CORES = 0.02  # below this a container is idle noise
MIN_WALL_S = 1.0  # shorter phases get their length only


@dataclass(frozen=True)
class HostTimes:
    """Seconds of CPU time since boot, summed over every core."""

    busy: float
    steal: float
    iowait: float


def host_times(text: str, hz: int) -> HostTimes:
    """The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal ..."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            ticks = [int(x) for x in parts[1:9]] + [0] * max(0, 9 - len(parts))
            user, nice, system, _idle, iowait, irq, softirq, steal = ticks[:8]
            return HostTimes(busy=(user + nice + system + irq + softirq) / hz, steal=steal / hz, iowait=iowait / hz)
    raise ValueError("no aggregate cpu line in /proc/stat")


def container_cpu_s(container_id: str, root: Path = CGROUP_ROOT) -> float | None:
    """CPU seconds a container has used, from cgroup v1 (cpuacct, nanoseconds) or v2 (cpu.stat,
    microseconds) under Docker's cgroupfs or systemd driver; None when none of them is there."""
    v1_dirs = [root / c / "docker" / container_id for c in ("cpuacct", "cpu,cpuacct")]
    v1_dirs += [root / c / "system.slice" / f"docker-{container_id}.scope" for c in ("cpuacct", "cpu,cpuacct")]
    for v1 in v1_dirs:
        try:
            return int((v1 / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            continue
    for v2 in (root / "system.slice" / f"docker-{container_id}.scope", root / "docker" / container_id):
        try:
            for line in (v2 / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
        except (OSError, ValueError):
            continue
    return None


@dataclass(frozen=True)
class Reading:
    at: float  # monotonic seconds
    host: HostTimes | None
    containers: dict[str, float]  # service -> CPU seconds (a service's containers summed)


def _cores(seconds: float, wall: float) -> float:
    return round(max(0.0, seconds) / wall, 2)


def usage_between(a: Reading, b: Reading) -> dict[str, object]:
    """Cores used from a to b: the host's busy, steal and iowait, what ran outside the containers
    (the harness, Locust, Docker itself), and the busiest containers.

    A container restarted in between has a new cgroup counting from zero: its reading at b is
    what it used since (a lower bound), and the phase names it under `restarted`. What ran outside
    the containers is given only when every service was read at both ends (else `unread`)."""
    wall = b.at - a.at
    out: dict[str, object] = {"wall_s": round(wall, 2)}
    if wall < MIN_WALL_S:  # a tick or two of a phase this short reads as several cores
        return out
    used: dict[str, float] = {}
    restarted = []
    for service, end in b.containers.items():
        if service not in a.containers:
            continue
        delta = end - a.containers[service]
        if delta < 0:
            restarted.append(service)
            delta = end
        used[service] = delta
    unread = sorted(set(a.containers) ^ set(b.containers))
    if a.host is not None and b.host is not None:
        busy = b.host.busy - a.host.busy
        out["host_busy"] = _cores(busy, wall)
        out["steal"] = _cores(b.host.steal - a.host.steal, wall)
        out["iowait"] = _cores(b.host.iowait - a.host.iowait, wall)
        out["outside_containers"] = None if unread or restarted else _cores(busy - sum(used.values()), wall)
    busiest = sorted(used.items(), key=lambda kv: -kv[1])[:TOP]
    out["containers"] = {s: _cores(sec, wall) for s, sec in busiest if sec / wall >= MIN_CORES}
    if restarted:
        out["restarted"] = sorted(restarted)
    if unread:
        out["unread"] = unread
    return out


class CpuMeter:
    """Readings at each phase boundary; `by_phase()` gives the cores each phase used."""

    def __init__(
        self,
        container_ids: Callable[[], Mapping[str, list[str]]],
        read_host: Callable[[], HostTimes | None] | None = None,
        read_container: Callable[[str], float | None] = container_cpu_s,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ids = container_ids  # service -> container ids; asked once, at the first mark
        self._read_host = read_host or _read_proc_stat
        self._read_container = read_container
        self._clock = clock
        self._services: Mapping[str, list[str]] | None = None
        self._marks: list[tuple[str, Reading]] = []

    def _reading(self) -> Reading:
        if self._services is None:
            try:
                self._services = self._ids()
            except Exception as exc:  # accounting must never fail a scenario
                log.warning("no per-container CPU for this scenario: %s", exc)
                self._services = {}
        containers: dict[str, float] = {}
        for service, ids in self._services.items():
            values = [self._read_container(i) for i in ids]
            if values and all(v is not None for v in values):
                containers[service] = sum(v for v in values if v is not None)
        return Reading(self._clock(), self._read_host(), containers)

    def mark(self, phase: str) -> None:
        """A phase starts now (the previous one ends)."""
        self._marks.append((phase, self._reading()))

    def by_phase(self) -> dict[str, dict[str, object]]:
        """Phase -> cores used in it, for every phase that has ended; a repeated phase keeps its last."""
        return {name: usage_between(a, b) for (name, a), (_, b) in zip(self._marks, self._marks[1:], strict=False)}


def _read_proc_stat() -> HostTimes | None:
    try:
        return host_times(PROC_STAT.read_text(), os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError):
        return None
