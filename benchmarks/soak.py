"""Soak with real-size images against a running stack: photos of 0.2-1 MiB at a steady rate for
minutes, sampling the disks the system writes to (the WAL disks, ecoeco_waste's data disk) and,
at the end, what was completed and what was dead-lettered. Bounded storage is the claim: with
images kept in the WAL and the outbox, a 64 MiB WAL disk filled after ~45 uploads.

    python3 -m benchmarks.soak [--minutes 3] [--rate 4] [--threads 8]

Start the stack with a short retention to see pruning within the soak, e.g.
ECOECO_WAL_RETENTION_S=600 (ten design minutes: 12 s at the harness's time scale 0.02).
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from faults.wait import until
from harness import disks, observe
from harness.config import from_env
from harness.probes import ProbeUser
from load.images import photo_pool

SIZES = (200 * 1024, 1000 * 1024)
SAMPLE_S = 10.0


def used_mib() -> dict[str, float]:
    """MiB used on each of the project's loop disks."""
    out = {}
    for name in disks.DISKS:
        st = os.statvfs(disks.disk_root(from_env().project) / name)
        out[name] = (st.f_blocks - st.f_bfree) * st.f_frsize / 2**20
    return out


def main() -> None:
    """Upload at a steady rate, print the disks every SAMPLE_S, then the totals."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=4.0, help="uploads per second")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    config = from_env()
    user = ProbeUser(config)
    photos = photo_pool(32, seed=7, size_range=SIZES)
    url = f"{config.url('waste-api')}/tasks"
    accepted: list[str] = []
    failed = 0
    lock = threading.Lock()
    sent_bytes = 0

    def upload(client: httpx.Client) -> None:
        nonlocal failed, sent_bytes
        name, data, ctype = random.choice(photos)
        task_id = f"soak-{uuid.uuid4().hex}"
        try:
            r = client.post(url, headers=user.headers, data={"task_id": task_id}, files={"image": (name, data, ctype)})
            ok = r.status_code == 202
        except httpx.HTTPError:
            ok = False
        with lock:
            if ok:
                accepted.append(task_id)
                sent_bytes += len(data)
            else:
                failed += 1

    print(
        f"photos {min(len(p[1]) for p in photos) // 1024}-{max(len(p[1]) for p in photos) // 1024} KiB, "
        f"{args.rate}/s for {args.minutes} min; disks (MiB used): {', '.join(disks.DISKS)}"
    )
    start = time.monotonic()
    end = start + args.minutes * 60
    next_sample = start
    with ThreadPoolExecutor(args.threads) as pool, httpx.Client(timeout=10) as client:
        n = 0
        while time.monotonic() < end:
            if time.monotonic() >= next_sample:
                used = used_mib()
                print(
                    f"  t={time.monotonic() - start:5.0f}s accepted={len(accepted):5d} "
                    + " ".join(f"{k}={v:6.1f}" for k, v in used.items()),
                    flush=True,
                )
                next_sample += SAMPLE_S
            pool.submit(upload, client)
            n += 1
            time.sleep(max(0.0, start + n / args.rate - time.monotonic()))  # the steady rate, not a wait

    def completed() -> int | None:
        done = observe.results_counts(config)
        left = sum(1 for t in accepted if t not in done)
        return len(accepted) if left == 0 else None

    until(completed, timeout_s=300, what="every soak upload completed", interval_s=2)
    took = time.monotonic() - start
    dead = [t for t in observe.dead_lettered_ids(config) if t.startswith("soak-")]
    used = used_mib()
    print(
        f"accepted {len(accepted)} ({sent_bytes / 2**20:.0f} MiB of images), refused {failed}, all completed "
        f"after {took:.0f} s ({len(accepted) / took:.1f}/s); dead-lettered: {len(dead)}"
    )
    print("disks at the end (MiB used): " + ", ".join(f"{k} {v:.1f}" for k, v in used.items()))


if __name__ == "__main__":
    main()
