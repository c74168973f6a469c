"""Startup benchmark: from nothing (no containers, no volumes, fresh WAL disks) to every service
healthy, as the harness starts a session; which services were ready last; and the host's idle
CPU once the stack is up (at rest it is mostly the healthchecks: each is a runc exec).

    python3 -m benchmarks.startup [--runs 3] [--idle-s 30]

The time scale is the harness's (ECOECO_TIME_SCALE, default 0.02); ECOECO_TIME_SCALE=1 measures
the stack as plain `docker compose up` starts it (the workers then poll the broker every 5 s).
Each run ends with the stack down. Needs the images (scripts/setup.sh) and no stack running.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime

from benchmarks import cpu
from harness.config import from_env
from harness.stack import Stack


def _ts(stamp: str) -> float:
    """Docker's RFC 3339 time with nanoseconds -> epoch seconds (fromisoformat takes microseconds)."""
    whole, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}+00:00").timestamp() + float(f"0.{frac or '0'}")


def ready_at(stack: Stack, since: float) -> dict[str, float]:
    """service -> seconds from `since` to the end of its first passing healthcheck."""
    ready: dict[str, float] = {}
    for c in stack.containers():
        c.reload()
        passed = [
            _ts(entry["End"]) for entry in c.attrs["State"].get("Health", {}).get("Log", []) if entry["ExitCode"] == 0
        ]
        if passed:  # Docker keeps the last five checks: right after `up` the first pass is among them
            ready[c.labels.get("com.docker.compose.service", c.name)] = min(passed) - since
    return ready


def idle_share(seconds: float) -> float:
    """Busy share of all cores over `seconds`, after the host settled."""
    cpu.settle(max_busy=0.5)
    return cpu.busy_share(seconds)


def main() -> None:
    """Print each run, then the medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle-s", type=float, default=30.0)
    args = parser.parse_args()
    stack = Stack(from_env())
    ups: list[float] = []
    idles: list[float] = []
    for n in range(1, args.runs + 1):
        stack.down()
        started = time.time()
        try:
            stack.up()
            ups.append(time.time() - started)
            last = sorted(ready_at(stack, started).items(), key=lambda item: item[1])[-3:]
            idles.append(idle_share(args.idle_s))
        finally:
            stack.down()
        print(
            f"run {n}: up to all healthy {ups[-1]:.1f} s (last ready: "
            f"{', '.join(f'{name} {at:.1f} s' for name, at in last)}); idle host CPU {idles[-1]:.1%}"
        )
    print(f"up to all healthy: median {statistics.median(ups):.1f} s ({', '.join(f'{u:.1f}' for u in ups)})")
    print(f"idle host CPU with the stack up: median {statistics.median(idles):.1%} of all cores")


if __name__ == "__main__":
    main()
