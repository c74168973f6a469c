"""AMQP access from the host to a RabbitMQ node's published port (shared by the queue faults)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pika
import pika.exceptions
from docker.models.containers import Container

from faults.base import FaultError
from faults.target import Project, is_running
from system import topology
from system.credentials import AMQP_ADMIN, amqp_password

NODES = topology.load().broker_nodes


def loopback_parameters(
    port: int, user: str = AMQP_ADMIN, password: str | None = None, timeout_s: float = 5.0
) -> pika.ConnectionParameters:
    """How the host reaches a node's published 127.0.0.1 port: one attempt, bounded waits (as the
    administrator by default). The faults and the harness's own looks (harness/observe.py) share it."""
    password = amqp_password(user) if password is None else password
    return pika.ConnectionParameters(
        host="127.0.0.1",
        port=port,
        credentials=pika.PlainCredentials(user, password),
        connection_attempts=1,
        socket_timeout=timeout_s,
        blocked_connection_timeout=timeout_s,
        stack_timeout=2 * timeout_s,
    )


def amqp_connection(
    stack: Project, node: str, user: str = AMQP_ADMIN, password: str | None = None
) -> pika.BlockingConnection:
    """A blocking AMQP connection to one node's published 127.0.0.1 port."""
    try:
        return pika.BlockingConnection(loopback_parameters(stack.host_port(node, 5672), user, password))
    except pika.exceptions.AMQPError as exc:
        raise FaultError(f"cannot reach RabbitMQ node {node}: {exc!r}") from exc


def queue_depth(channel: Any, queue: str) -> int:
    """Messages ready in a queue (passive declare: never creates it)."""
    return int(channel.queue_declare(queue, passive=True).method.message_count)


def running_node(stack: Project, nodes: Sequence[str] = NODES) -> tuple[str, Container]:
    """The first running node of the cluster (policies and permissions are cluster-wide)."""
    for node in nodes:
        try:
            container = stack.container(node)
        except FaultError:
            continue
        if is_running(container):
            return node, container
    raise FaultError(f"no running RabbitMQ node among {list(nodes)}")
