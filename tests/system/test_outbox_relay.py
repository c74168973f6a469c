"""waste-api's relay thread: hand-overs flow at their own pace even when the outbox scan is slow
(a scan once read hundreds of image bodies per pass and let one hand-over through per scan, so
after a broker outage the relay fell behind for good)."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest

import system.apis.waste as waste


def test_a_slow_scan_does_not_throttle_the_hand_overs(monkeypatch: pytest.MonkeyPatch) -> None:
    published: list[str] = []
    scans: list[float] = []

    def slow_scan(batch: int = waste.RELAY_BATCH) -> tuple[int, int]:
        scans.append(time.monotonic())
        time.sleep(0.8)  # reading the outbox under load
        return 0, 0

    def publish(task_id: str, body: dict[str, Any]) -> bool:
        published.append(task_id)
        return True

    handed = waste.HandOver()
    monkeypatch.setattr(waste, "handed", handed)
    monkeypatch.setattr(waste, "relay_once", slow_scan)
    monkeypatch.setattr(waste, "_publish_outbox", publish)
    monkeypatch.setattr(waste.marks, "flush", lambda: None)
    for i in range(100):
        handed.put(f"task-{i:03d}", {"task_id": f"task-{i:03d}"})
    stop = threading.Event()
    relay = threading.Thread(target=waste.relay_forever, args=(stop,), daemon=True)
    relay.start()
    time.sleep(2.5)
    stop.set()
    relay.join(timeout=5)
    assert published == [f"task-{i:03d}" for i in range(100)]  # all of them, in order
    assert all(b - a >= waste.RELAY_PERIOD_S + 0.8 - 0.05 for a, b in itertools.pairwise(scans))
