"""The first queue declaration waits for every broker node (real sockets, no broker needed)."""

from __future__ import annotations

import socket
import time

import pika
import pika.exceptions
import pytest

from system.broker import BrokerUnavailable, connect_to_node, wait_for_all_nodes
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


def test_a_client_fails_over_to_the_node_that_answers_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []

    def blocking_connection(params: pika.ConnectionParameters) -> object:
        tried.append(params.host)
        if params.host == "rabbitmq-2":
            return "connection"
        if params.host == "rabbitmq-1":
            raise socket.gaierror(-2, "Name or service not known")  # a stopped container's name
        raise pika.exceptions.AMQPConnectionError("refused")

    monkeypatch.setattr(pika, "BlockingConnection", blocking_connection)
    settings = Settings(amqp_user="u", amqp_nodes=("rabbitmq-1", "rabbitmq-3", "rabbitmq-2"))
    for _ in range(5):  # the order is shuffled: whatever it is, the answering node wins
        tried.clear()
        assert connect_to_node(settings) == ("connection", "rabbitmq-2")
        assert tried[-1] == "rabbitmq-2"
    down = Settings(amqp_user="u", amqp_nodes=("rabbitmq-1", "rabbitmq-3"))
    with pytest.raises(BrokerUnavailable) as refused:
        connect_to_node(down)
    assert "rabbitmq-1: gaierror" in str(refused.value) and "rabbitmq-3: AMQPConnectionError" in str(refused.value)
