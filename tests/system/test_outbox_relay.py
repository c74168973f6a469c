"""waste-api's relay thread: hand-overs flow at their own pace even when the outbox scan is slow
(a scan once read hundreds of image bodies per pass and let one hand-over through per scan, so
after a broker outage the relay fell behind for good)."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pika.exceptions
import pytest

import system.apis.waste as waste
from system.broker import BrokerUnavailable, Publisher


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


class _Outbox:
    """ecoeco_waste's outbox as relay_once reads it: unpublished rows, ids first, then bodies."""

    def __init__(self, n: int) -> None:
        self.rows = [{"task_id": f"task-{i:03d}", "body": b'{"task_id": "task-%03d"}' % i} for i in range(n)]
        self._last: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Outbox]:
        yield self

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        if sql.startswith("SELECT count"):
            self._last = [{"n": len(self.rows)}]
        elif sql.startswith("SELECT task_id FROM"):
            self._last = [{"task_id": r["task_id"]} for r in self.rows]
        else:
            self._last = [r for r in self.rows if r["task_id"] in args[0]]

    def fetchone(self) -> dict[str, Any]:
        return self._last[0]

    def fetchall(self) -> list[dict[str, Any]]:
        return self._last


class _Publisher:
    """A publisher whose confirm takes a while; `refuse` makes the broker refuse every publish."""

    def __init__(self, busy: list[int], refuse: bool = False) -> None:
        self.sent: list[str] = []
        self._busy, self._refuse = busy, refuse

    def publish(self, queue: str, body: dict[str, Any]) -> None:
        if self._refuse:
            raise BrokerUnavailable("refused")
        self._busy.append(1)
        time.sleep(0.02)  # the confirm
        self.sent.append(body["task_id"])
        self._busy.append(-1)


def test_a_scan_publishes_its_rows_on_every_relay_connection_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    busy: list[int] = []
    pubs = [_Publisher(busy) for _ in range(waste.RELAY_PUBLISHERS)]
    monkeypatch.setattr(waste, "db", _Outbox(40))
    monkeypatch.setattr(waste, "relay_publishers", pubs)
    monkeypatch.setattr(waste, "marks", waste.PublishedMarks())
    assert waste.relay_once() == (40, 40)
    assert sorted(t for p in pubs for t in p.sent) == [f"task-{i:03d}" for i in range(40)]
    assert all(p.sent for p in pubs)  # every connection carried a share
    assert max(itertools.accumulate(busy)) > 1  # and they waited for their confirms side by side
    assert all(f"task-{i:03d}" in waste.marks for i in range(40))


def test_a_refused_publish_leaves_its_share_to_the_next_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    busy: list[int] = []
    pubs = [_Publisher(busy, refuse=(i == 0)) for i in range(waste.RELAY_PUBLISHERS)]
    monkeypatch.setattr(waste, "db", _Outbox(40))
    monkeypatch.setattr(waste, "relay_publishers", pubs)
    monkeypatch.setattr(waste, "marks", waste.PublishedMarks())
    relayed, waiting = waste.relay_once()
    assert (relayed, waiting) == (30, 40)
    assert not any(f"task-{i:03d}" in waste.marks for i in range(0, 40, waste.RELAY_PUBLISHERS))


class _Conn:
    """A BlockingConnection as keepalive uses it; `lost` makes the broker have closed it."""

    def __init__(self, lost: bool = False) -> None:
        self.served, self.closed, self._lost = 0, False, lost

    def process_data_events(self, time_limit: float) -> None:
        if self._lost:
            raise pika.exceptions.StreamLostError("missed heartbeats from client")
        self.served += 1

    def close(self) -> None:
        self.closed = True


def test_keepalive_serves_an_idle_connection_and_drops_a_dead_one() -> None:
    pub = Publisher(waste.settings)
    pub.keepalive()  # never connected: stays so (no connection made just to keep it alive)
    assert pub._conn is None
    alive, dead = _Conn(), _Conn(lost=True)
    pub._conn = alive
    pub.keepalive()
    assert alive.served == 1 and pub._conn is alive
    pub._conn = dead
    pub.keepalive()
    assert pub._conn is None and dead.closed  # the next publish reconnects instead of failing


def test_every_scan_keeps_every_publisher_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    kept: list[int] = []

    class _Idle:
        def __init__(self, i: int) -> None:
            self.i = i

        def keepalive(self) -> None:
            kept.append(self.i)

    monkeypatch.setattr(waste, "handed", waste.HandOver())
    monkeypatch.setattr(waste, "relay_once", lambda batch=waste.RELAY_BATCH: (0, 0))
    monkeypatch.setattr(waste.marks, "flush", lambda: None)
    monkeypatch.setattr(waste, "publisher", _Idle(0))
    monkeypatch.setattr(waste, "relay_publishers", [_Idle(i + 1) for i in range(waste.RELAY_PUBLISHERS)])
    stop = threading.Event()
    relay = threading.Thread(target=waste.relay_forever, args=(stop,), daemon=True)
    relay.start()
    time.sleep(1.2)  # two or three scans, half a second apart
    stop.set()
    relay.join(timeout=5)
    scans = kept.count(0)
    assert scans >= 2
    assert all(kept.count(i) == scans for i in range(waste.RELAY_PUBLISHERS + 1))
