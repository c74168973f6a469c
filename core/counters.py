"""The system's own counters, read from a service's /metrics: what it saw and what it did.

A fault is shown to bite by a symptom the system counted (failed GPT calls, failed S3 puts,
failed sync batches, WAL write errors), and a recovery path is shown to run by the counter of
that path (rows replayed at start, outbox rows relayed, retries forwarded, sync retries). Each
is the growth of a counter between a snapshot before the injection and one after the drain; a
service restarted in between (a new `process_start_time_seconds`) counts from zero. The scrape
itself is harness/observe.py's.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

START_TIME = "process_start_time_seconds"


@dataclass(frozen=True)
class CounterSpec:
    """One counter of one service, optionally restricted to label values (summed over the rest)."""

    service: str
    metric: str  # the sample name as exposed, e.g. "wal_recovered_tasks_total"
    labels: Mapping[str, str] = field(default_factory=dict)
    what: str = ""  # what its growth shows, in a few words

    @property
    def key(self) -> str:
        """service:metric{labels}, for records and reports."""
        sel = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.service}:{self.metric}" + (f"{{{sel}}}" if sel else "")


@dataclass(frozen=True)
class Snapshot:
    """Every sample of one scrape (None when the service did not answer)."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] | None
    started: float | None  # process start time of the service

    def total(self, metric: str, labels: Mapping[str, str]) -> float | None:
        """Sum of `metric` over the samples whose labels include `labels`."""
        if self.samples is None:
            return None
        want = set(labels.items())
        return sum(v for (name, lab), v in self.samples.items() if name == metric and want <= set(lab))


def growth(spec: CounterSpec, before: Snapshot, after: Snapshot) -> float | None:
    """How much the counter grew; None when the after-scrape failed. A restart in between (or a
    failed before-scrape) counts from zero: a counter never shrinks within one process."""
    now = after.total(spec.metric, spec.labels)
    if now is None:
        return None
    same_process = before.samples is not None and before.started is not None and before.started == after.started
    then = before.total(spec.metric, spec.labels) if same_process else 0.0
    return max(0.0, now - (then or 0.0))


def growth_over(spec: CounterSpec, snapshots: list[Snapshot]) -> float | None:
    """Growth summed over consecutive snapshots (e.g. before the injection, at heal, after the
    drain), so a restart in between loses only what the killed process counted after the last
    scrape; None when no interval could be read."""
    if not snapshots or snapshots[-1].samples is None:
        return None
    # a scrape that failed (the service down at that instant) is skipped, not counted from zero:
    # the growth between its neighbours is still one process's growth when they share a start time
    seen = [s for s in snapshots[:-1] if s.samples is not None] + [snapshots[-1]]
    if len(seen) == 1:
        return growth(spec, Snapshot(None, None), seen[0])
    return sum(g for a, b in itertools.pairwise(seen) if (g := growth(spec, a, b)) is not None)
