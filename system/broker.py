"""RabbitMQ through pika: the topology, and a publisher that counts a publish only when confirmed.

Clients know all three nodes and fail over: pika tries the parameter list in order, and
callers reconnect on any AMQP error (pika has no automatic reconnection).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from system.settings import Settings

log = logging.getLogger(__name__)

PIPELINE_QUEUES = (
    "user_input_queue",
    "vision_analysis_queue",
    "rule_retrieval_queue",
    "response_generation_queue",
)
# the stage that reads each pipeline queue, in the same order (the workers' Stage names)
PIPELINE_STAGES = ("image_uploader", "gpt5_analyzer", "rule_retriever", "response_generator")
OTHER_QUEUES = ("auth_queue", "location_query_queue", "analytics_queue")
ALL_QUEUES = PIPELINE_QUEUES + OTHER_QUEUES
DLX = "ecoeco.dlx"
DEAD_LETTER_QUEUE = "dead_letter_queue"
DELIVERY_LIMIT = 20  # a message that keeps failing is dead-lettered after this many redeliveries
AMQP_PORT = 5672
CLUSTER_FORMING_S = 180.0  # how long a first declaration waits for the other nodes to join


class BrokerUnavailable(Exception):
    """The broker could not be reached or refused the publish."""


def connection_parameters(settings: Settings) -> list[pika.ConnectionParameters]:
    """One parameter set per cluster node, shuffled so clients spread over the nodes."""
    creds = pika.PlainCredentials(settings.amqp_user, settings.amqp_password)
    nodes = list(settings.amqp_nodes)
    random.shuffle(nodes)
    return [
        pika.ConnectionParameters(
            host=node,
            port=AMQP_PORT,
            credentials=creds,
            heartbeat=10,
            blocked_connection_timeout=5,
            socket_timeout=3,
            connection_attempts=1,
            stack_timeout=5,
        )
        for node in nodes
    ]


def connect(settings: Settings) -> pika.BlockingConnection:
    """A connection to the first node that answers."""
    return connect_to_node(settings)[0]


def connect_to_node(settings: Settings) -> tuple[pika.BlockingConnection, str]:
    """A connection to the first node that answers, and that node's name (for the logs: which
    node a client came back on after an outage)."""
    if not settings.amqp_user:  # a clear reason in the log, not a refused login retried forever
        raise BrokerUnavailable("ECOECO_AMQP_USER is not set: this service has no RabbitMQ user (docker-compose.yml)")
    errors = []
    for params in connection_parameters(settings):
        try:
            return pika.BlockingConnection(params), str(params.host)
        except (pika.exceptions.AMQPError, OSError) as exc:  # OSError: a stopped node's name does not resolve
            errors.append(f"{params.host}: {exc!r}")
    raise BrokerUnavailable(f"no RabbitMQ node answered: {'; '.join(errors)}")


def queue_arguments(settings: Settings) -> dict[str, Any]:
    """Arguments of every work queue: replicated, dead-lettered, with a delivery limit."""
    args: dict[str, Any] = {"x-dead-letter-exchange": DLX}
    if settings.is_unsafe("classic_queues"):
        return args
    args.update(
        {
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            # at-least-once dead-lettering needs reject-publish overflow (RabbitMQ 3.10).
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }
    )
    return args


def declare_topology(channel: BlockingChannel, settings: Settings) -> None:
    """Declare the exchanges and queues; idempotent for identical arguments.

    On a cluster that has no queues yet (its first start), first wait for every node to join:
    a quorum queue's members are the nodes in the cluster when it is declared, so a queue
    declared while only the seed node runs would never be replicated. (Classic queues have no
    replicas to miss, so they do not wait.)
    """
    classic = settings.is_unsafe("classic_queues")
    if not classic and not _topology_exists(channel.connection):
        wait_for_all_nodes(settings, sleep=channel.connection.sleep)  # keeps heartbeats going
    channel.exchange_declare(DLX, exchange_type="fanout", durable=True)
    dlq_args: dict[str, Any] = {} if classic else {"x-queue-type": "quorum"}
    channel.queue_declare(DEAD_LETTER_QUEUE, durable=True, arguments=dlq_args)
    channel.queue_bind(DEAD_LETTER_QUEUE, DLX)
    for name in ALL_QUEUES:
        # durable either way, as the design asks: a classic queue keeps its persistent messages
        # across a restart, but not the transient ones, and lives on one node only
        channel.queue_declare(name, durable=True, arguments=queue_arguments(settings))


def _topology_exists(conn: pika.BlockingConnection) -> bool:
    """True when the last queue declare_topology declares is there (on a throwaway channel:
    a passive declare of a missing queue closes its channel)."""
    probe = conn.channel()
    try:
        probe.queue_declare(ALL_QUEUES[-1], passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as exc:
        # only NOT_FOUND means a fresh cluster; any other refusal (a cluster still recovering)
        # must not hold a reconnecting client back until every node is up
        return int(exc.reply_code) != 404
    finally:
        if probe.is_open:
            probe.close()


def wait_for_all_nodes(
    settings: Settings,
    timeout_s: float = CLUSTER_FORMING_S,
    sleep: Callable[[float], None] = time.sleep,
    port: int = AMQP_PORT,
) -> list[str]:
    """Wait until every node accepts connections on the AMQP port (a joining node opens it only
    after it joined the cluster); returns the nodes still missing after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    missing = list(settings.amqp_nodes)
    announced = False
    while True:
        missing = [node for node in missing if not _accepts(node, port)]
        if not missing or time.monotonic() >= deadline:
            break
        if not announced:
            log.info("no queues yet: waiting for %s to join before declaring them", missing)
            announced = True
        sleep(0.5)
    if missing:
        log.warning("declaring the queues while %s have not joined: their quorum queues lack those members", missing)
    return missing


def _accepts(node: str, port: int) -> bool:
    try:
        socket.create_connection((node, port), timeout=1).close()
        return True
    except OSError:
        return False


def publish_channel(conn: pika.BlockingConnection, settings: Settings) -> BlockingChannel:
    """A channel to publish on: with publisher confirms (unless the planted `no_confirms`), so that
    basic_publish returns only once the broker has the message, and raises when it refuses it."""
    channel = conn.channel()
    if not settings.is_unsafe("no_confirms"):
        channel.confirm_delivery()
    return channel


def publish(channel: BlockingChannel, settings: Settings, queue: str, body: dict[str, Any]) -> None:
    """The one way a message is published: JSON, persistent (unless the planted
    `transient_delivery`), its task id as message id, mandatory routing (an unroutable message
    raises instead of vanishing). pika's BlockingConnection serves one thread, so each publisher
    brings its own channel: the API's Publisher below, a worker's consumer its own connection's."""
    mode = 1 if settings.is_unsafe("transient_delivery") else 2
    props = pika.BasicProperties(
        delivery_mode=mode, content_type="application/json", message_id=str(body.get("task_id", ""))
    )
    channel.basic_publish("", queue, json.dumps(body).encode(), properties=props, mandatory=True)


class Publisher:
    """A thread-safe publisher: persistent messages, publisher confirms, mandatory routing."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._conn: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _ensure(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._conn = connect(self._settings)
        channel = publish_channel(self._conn, self._settings)
        declare_topology(channel, self._settings)
        self._channel = channel
        return channel

    def publish(self, queue: str, body: dict[str, Any]) -> None:
        """Publish to `queue`; returns only once the broker confirmed, else BrokerUnavailable."""
        with self._lock:
            try:
                publish(self._ensure(), self._settings, queue, body)
            except (pika.exceptions.AMQPError, OSError) as exc:
                self.close()
                raise BrokerUnavailable(f"publish to {queue} not confirmed: {exc!r}") from exc

    def healthy(self) -> bool:
        """True when a channel to some node is open (connecting if needed)."""
        with self._lock:
            try:
                self._ensure()
            except (BrokerUnavailable, pika.exceptions.AMQPError, OSError):
                self.close()
                return False
            return self._serve()

    def keepalive(self) -> None:
        """Serve an idle connection's heartbeats (never connects). pika's BlockingConnection answers
        the broker's heartbeats only inside its own calls, so a publisher left idle past the
        heartbeat timeout is closed by the broker and its next publish fails on the dead socket:
        seen after a broker outage, when the relay's connections went idle once the backlog was out."""
        with self._lock:
            if self._conn is not None:
                self._serve()

    def _serve(self) -> bool:
        """With the lock held and a connection: let pika handle pending I/O (heartbeats); a
        connection the broker closed is dropped, so the next publish reconnects."""
        assert self._conn is not None
        try:
            self._conn.process_data_events(0)
            return True
        except (pika.exceptions.AMQPError, OSError):
            self.close()
            return False

    def close(self) -> None:
        """Drop the connection; the next publish reconnects."""
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to close cleanly
                conn.close()
