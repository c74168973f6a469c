"""One scrape of a service's /metrics into a counters Snapshot (core/counters.py judges the growth)."""

from __future__ import annotations

import math

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.counters import START_TIME, Snapshot


def parse(text: str) -> Snapshot:
    """A Snapshot from Prometheus text exposition."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    started: float | None = None
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if not math.isfinite(s.value):
                continue
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
            if s.name == START_TIME:
                started = s.value
    return Snapshot(samples, started)


def scrape(url: str, timeout_s: float = 2.0) -> Snapshot:
    """One scrape of a /metrics URL; an unreachable service gives an empty Snapshot."""
    try:
        response = httpx.get(url, timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError:
        return Snapshot(None, None)
    return parse(response.text)
