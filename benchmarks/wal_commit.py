"""WAL commit latency next to a bare fsync on the same filesystem (run where the WAL lives):

    docker compose exec worker-ai python3 -m benchmarks.wal_commit /var/lib/ecoeco/wal
    (or on the host: python3 -m benchmarks.wal_commit /var/lib/ecoeco-disks/ecoeco/wal-ai/data)

Each WAL commit is one task_wal INSERT (the spec's 'pending' row) with synchronous=FULL, with
the commit count (F9: a wal_meta update and a pwrite of task_queue.db.commits) and without it
(the design as written).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from system.workers.wal import WAL


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bare_fsync(directory: str, n: int) -> list[float]:
    """Latency of write(512 bytes) + fsync on an open file."""
    fd, path = tempfile.mkstemp(dir=directory)
    out = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, b"x" * 512)
            os.fsync(fd)
            out.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        os.unlink(path)
    return out


def wal_commits(directory: str, n: int, count_commits: bool = True) -> list[float]:
    """Latency of one committed task_wal insert."""
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        wal = WAL(os.path.join(tmp, "bench.db"), count_commits=count_commits)
        out = []
        for i in range(n):
            t = time.perf_counter()
            wal.begin(f"bench-{i}", "image_uploader", {"task_id": f"bench-{i}", "pad": "x" * 200})
            out.append(time.perf_counter() - t)
        wal.close()
    return out


def main(directory: str, n: int = 2000, runs: int = 5) -> None:
    """Print p50/p99 of both, median over runs."""
    rows = []
    for _ in range(runs):
        f, w, u = bare_fsync(directory, n), wal_commits(directory, n), wal_commits(directory, n, count_commits=False)
        rows.append(tuple(percentile(x, q) for x in (f, w, u) for q in (0.5, 0.99)))
    med = [statistics.median(r[i] for r in rows) * 1000 for i in range(6)]
    print(
        f"{directory}: bare fsync p50 {med[0]:.3f} ms p99 {med[1]:.3f} ms | WAL commit p50 {med[2]:.3f} ms "
        f"p99 {med[3]:.3f} ms (uncounted p50 {med[4]:.3f} ms p99 {med[5]:.3f} ms) | ratio p50 "
        f"{med[2] / med[0]:.2f}x (median of {runs} runs x {n})"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
