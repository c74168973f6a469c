"""The first queue declaration waits for every broker node (real sockets, no broker needed)."""

from __future__ import annotations

import socket
import time

from system.broker import wait_for_all_nodes
from system.settings import Settings


def test_returns_once_every_node_listens() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        started = time.monotonic()
        missing = wait_for_all_nodes(Settings(amqp_nodes=("127.0.0.1", "localhost")), timeout_s=5, port=port)
    assert missing == [] and time.monotonic() - started < 1


def test_reports_the_node_that_never_joined() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        naps: list[float] = []

        def nap(seconds: float) -> None:
            naps.append(seconds)
            time.sleep(seconds)

        missing = wait_for_all_nodes(
            Settings(amqp_nodes=("127.0.0.1", "rabbitmq-9.invalid")), timeout_s=0.3, sleep=nap, port=port
        )
    assert missing == ["rabbitmq-9.invalid"] and naps  # it polled, and did not wait forever
