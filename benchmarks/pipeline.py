"""Pipeline benchmarks against a running stack: one upload's end-to-end latency, and sustained
uploads per second through all four stages, with the CPU each upload cost per container. Each
throughput run waits for a quiet host first. Median of several runs.

`--workload zero` (default): GPT latency 0 and 80-byte images, the pipeline's own cost.
`--workload design`: the chaos suite's workload, GPT at the design's latencies (time-scaled, with
jitter) and photo-sized images (load/images.py); its capacity is what the suite's offered load
is a fraction of (harness/workload.py).

    python3 -m benchmarks.pipeline [--runs 5] [--uploads 600] [--threads 16] [--workload design]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from benchmarks import cpu
from faults.wait import until
from harness import observe
from harness.config import from_env
from harness.probes import ProbeUser
from load.images import photo_pool, tiny_png
from system.fakes.gpt import write_control

PHOTOS: list[tuple[str, bytes, str]] = []  # filled by --workload design


def submit(client: httpx.Client, url: str, headers: dict[str, str], n: int) -> str:
    """One upload (a photo of the pool when there is one); returns its task id."""
    task_id = f"bench-{uuid.uuid4().hex}"
    image = PHOTOS[n % len(PHOTOS)] if PHOTOS else ("b.png", tiny_png((n % 256, n // 256 % 256, 7)), "image/png")
    r = client.post(url, headers=headers, data={"task_id": task_id}, files={"image": image})
    r.raise_for_status()
    return task_id


def latency_once(user: ProbeUser, url: str) -> float:
    """Seconds from POST to the result stored in ecoeco_waste, for one upload on an idle system."""
    with httpx.Client(timeout=10) as c:
        started = time.time()
        task_id = submit(c, url, user.headers, 0)
    # the figure is the stored_at of the result, so polling slower (each poll is a new PostgreSQL
    # connection) does not change it, only how soon we notice
    done = until(
        lambda: observe.completion_times(user.config, [task_id]).get(task_id),
        timeout_s=30,
        what="benchmark upload completed",
        interval_s=0.1,
    )
    return float(done) - started


@dataclass(frozen=True)
class Throughput:
    """One throughput run: rates, and CPU milliseconds per upload (host total, per container, per
    host process outside the containers, and this client)."""

    accepted_per_s: float
    completed_per_s: float
    host_ms: float
    containers_ms: dict[str, float]
    host_processes_ms: dict[str, float]
    client_ms: float


def throughput_once(user: ProbeUser, url: str, uploads: int, threads: int) -> Throughput:
    """One run of `uploads` submitted by `threads` clients, measured until all completed."""
    cpu.settle()
    before = cpu.snapshot(user.config.project)
    client_before = time.process_time()
    started = time.time()
    with (
        ThreadPoolExecutor(threads) as pool,
        httpx.Client(timeout=10, limits=httpx.Limits(max_connections=threads)) as c,
    ):
        ids = list(pool.map(lambda n: submit(c, url, user.headers, n), range(uploads)))
    accepted = time.time()

    def all_done() -> float | None:
        times = observe.completion_times(user.config, ids)
        return max(times.values()) if len(times) == len(ids) else None

    last = until(all_done, timeout_s=300, what=f"{uploads} benchmark uploads completed", interval_s=1.0)
    client_ms = (time.process_time() - client_before) * 1000 / uploads
    host_ms, containers_ms, processes_ms = cpu.per_item_ms(before, cpu.snapshot(user.config.project), uploads)
    return Throughput(
        uploads / (accepted - started),
        uploads / (float(last) - started),
        host_ms,
        containers_ms,
        processes_ms,
        client_ms,
    )


def _series(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} ({', '.join(f'{v:.1f}' for v in values)})"


def _print_breakdown(title: str, per_run: list[dict[str, float]]) -> None:
    """Median CPU ms per upload of each name, largest first; small ones left out."""
    medians = {name: statistics.median(run.get(name, 0.0) for run in per_run) for name in per_run[0]}
    print(title)
    for name, median_ms in sorted(medians.items(), key=lambda item: -item[1]):
        if median_ms >= 0.2:
            print(f"  {name:18} {median_ms:5.1f} ms CPU per upload")


def main() -> None:
    """Print medians of the latency and throughput runs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uploads", type=int, default=600)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workload", choices=("zero", "design"), default="zero")
    args = parser.parse_args()
    config = from_env()
    control = str(config.control_dir / "gpt.json")
    for family in ("gpt5", "gpt4o-mini"):  # None: the design's latency (the fake scales it)
        write_control(control, family, "healthy", None if args.workload == "design" else 0.0)
    if args.workload == "design":
        PHOTOS.extend(photo_pool(48))
        print(
            f"workload: design GPT latencies, {len(PHOTOS)} photos of "
            f"{statistics.mean(len(p[1]) for p in PHOTOS) / 1024:.0f} KiB on average"
        )
    user = ProbeUser(config)
    url = f"{config.url('waste-api')}/tasks"
    latencies = [latency_once(user, url) for _ in range(max(args.runs, 5) * 2)]
    print(
        f"end-to-end latency of one upload: median {statistics.median(latencies) * 1000:.0f} ms "
        f"(min {min(latencies) * 1000:.0f}, max {max(latencies) * 1000:.0f}, n={len(latencies)})"
    )
    runs = [throughput_once(user, url, args.uploads, args.threads) for _ in range(args.runs)]
    print(f"uploads accepted per second: {_series([r.accepted_per_s for r in runs])}")
    print(f"uploads completed per second (all four stages): {_series([r.completed_per_s for r in runs])}")
    print(f"host CPU per upload ({os.cpu_count()} cores, client included): {_series([r.host_ms for r in runs])} ms")
    print(f"  of which this benchmark client: {statistics.median(r.client_ms for r in runs):.1f} ms")
    _print_breakdown("containers:", [r.containers_ms for r in runs])
    _print_breakdown(
        "host processes outside the containers (live ones; exited ones only in the total):",
        [r.host_processes_ms for r in runs],
    )


if __name__ == "__main__":
    main()
