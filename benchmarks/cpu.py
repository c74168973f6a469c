"""CPU accounting for benchmarks: host busy time and each container's CPU time (cgroup v1 or v2),
so a throughput figure comes with the CPU it cost and a quiet-machine check before it starts.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_CGROUP_FILES = (
    ("/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage", 1e-9),  # v1: nanoseconds
    ("/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat", 1e-6),  # v2 systemd: usage_usec
    ("/sys/fs/cgroup/docker/{id}/cpu.stat", 1e-6),  # v2 cgroupfs
)


def host_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the host since boot, summed over cores (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / 100.0, sum(fields) / 100.0


def _container_cpu_s(container_id: str) -> float | None:
    for pattern, unit in _CGROUP_FILES:
        path = Path(pattern.format(id=container_id))
        if not path.exists():
            continue
        text = path.read_text()
        if path.name == "cpu.stat":
            usage = next((line.split()[1] for line in text.splitlines() if line.startswith("usage_usec")), None)
            return None if usage is None else int(usage) * unit
        return int(text) * unit
    return None


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds consumed so far by the host and by each running container of a project."""

    at: float
    host_busy: float
    containers: dict[str, float]
    host_processes: dict[str, float]


def snapshot(project: str) -> Snapshot:
    """Host and per-container CPU counters now (containers of `project` that docker lists)."""
    out = subprocess.run(
        [
            "docker",
            "ps",
            "--no-trunc",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--format",
            '{{.ID}} {{.Label "com.docker.compose.service"}}',
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    containers: dict[str, float] = {}
    for line in out.splitlines():
        cid, _, service = line.partition(" ")
        used = _container_cpu_s(cid)
        if used is not None:
            containers[service] = used
    return Snapshot(time.time(), host_busy_s()[0], containers, host_processes())


_KERNEL_GROUPS = ("kworker", "ksoftirqd", "jbd2", "loop")
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def host_processes() -> dict[str, float]:
    """CPU seconds of the live processes outside containers, by name (kernel workers grouped):
    dockerd, containerd, the shims and the kernel's I/O workers are part of what an upload costs.
    Processes that already exited (runc, healthcheck execs) are missing; the host total has them."""
    used: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if "docker" in (proc / "cgroup").read_text():
                continue
            name, _, rest = (proc / "stat").read_text().partition(" (")[2].rpartition(") ")
        except OSError:
            continue
        fields = rest.split()
        name = next((group for group in _KERNEL_GROUPS if name.startswith(group)), name)
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / _TICKS_PER_S
    return used


def settle(max_busy: float = 0.35, window_s: float = 3.0, timeout_s: float = 60.0) -> float:
    """Wait until the host's busy share (of all cores) over `window_s` is at most `max_busy`;
    returns the last share. A benchmark started while a stack still warms up measures that instead."""
    deadline = time.time() + timeout_s
    while True:
        share = busy_share(window_s)
        if share <= max_busy or time.time() > deadline:
            return share


def busy_share(seconds: float) -> float:
    """The host's busy share of all cores over the next `seconds`."""
    busy0, total0 = host_busy_s()
    time.sleep(seconds)
    busy1, total1 = host_busy_s()
    return (busy1 - busy0) / max(total1 - total0, 1e-9)


def per_item_ms(before: Snapshot, after: Snapshot, items: int) -> tuple[float, dict[str, float], dict[str, float]]:
    """(host CPU ms per item, container -> CPU ms per item, host process -> CPU ms per item)
    between two snapshots."""

    def delta(then: dict[str, float], now: dict[str, float]) -> dict[str, float]:
        return {name: (now[name] - used) * 1000 / items for name, used in then.items() if name in now}

    return (
        (after.host_busy - before.host_busy) * 1000 / items,
        delta(before.containers, after.containers),
        delta(before.host_processes, after.host_processes),
    )
