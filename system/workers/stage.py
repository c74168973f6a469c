"""A pipeline stage: the one idempotent way every stage runs a task, and the consumer threads
that feed it from its queue, forward its output and ack.

The order is the durability argument: the WAL row is committed before any side effect is
trusted, the output is committed before the next message is published, and the consumer acks
only after that publish is confirmed. A redelivered task whose row is already completed
skips the work and republishes the stored output, so it never yields a second result.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from system import metrics
from system.broker import BrokerUnavailable, connect, connect_to_node, declare_topology, publish, publish_channel
from system.settings import Settings
from system.workers.wal import WAL

log = logging.getLogger(__name__)


# A dependency that is down is tried again at most every 16 minutes (design time): often enough to
# come back soon after it does, rarely enough not to hammer it.
RETRY_MAX_EXPONENT = 4


class ExternalFailure(Exception):
    """A dependency (GPT, S3) failed; the task goes to retry_queue with backoff."""


class PoisonMessage(Exception):
    """The message can never be processed; it is dead-lettered, not retried."""


@dataclass(frozen=True)
class Stage:
    """One consumer of the pipeline."""

    name: str
    input_queue: str
    output_queue: str | None  # None: the final stage, whose output is the result
    work: Callable[[dict[str, Any]], dict[str, Any]]
    bulky: tuple[str, ...] = ()  # input fields the WAL drops once the stage is done (its output has them)


def parse_task(msg: dict[str, Any]) -> str:
    """The task id of a message, or PoisonMessage."""
    task_id = msg.get("task_id")
    if not isinstance(task_id, str) or not task_id or len(task_id) > 128:
        raise PoisonMessage(f"message without a valid task_id: {str(msg)[:200]}")
    return task_id


class _Claims:
    """One lock per (task, stage) in hand: after a restart the broker's redelivery of a task and
    recovery's republished copy can reach two consumers at once; the second waits for the first
    and then recalls its output instead of doing the work a second time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: tuple[str, str]) -> Iterator[None]:
        with self._lock:
            lock, users = self._held.get(key, (threading.Lock(), 0))
            self._held[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._held[key]
                if users == 1:
                    del self._held[key]
                else:
                    self._held[key] = (lock, users - 1)


_claims = _Claims()


def run_task(stage: Stage, wal: WAL, msg: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Do (or recall) the stage's work for one task and return its output, durably in the WAL.

    Each run of the work is an attempt with its own id, carried in the output (and into the
    result), so a result recalled and sent again is told apart from work done twice."""
    task_id = parse_task(msg)
    idempotent = not settings.is_unsafe("no_idempotency")
    with _claims.hold((task_id, stage.name)) if idempotent else contextlib.nullcontext():
        row = wal.get(task_id, stage.name)
        recalled = row.output if row is not None and row.status == "completed" else None
        if recalled is not None and idempotent:
            return recalled
        wal.begin(task_id, stage.name, msg)
        metrics.WAL_TASKS.labels("started", stage.name).inc()
        started = time.monotonic()
        output = stage.work(msg)
        output.setdefault("task_id", task_id)
        output["attempt"] = uuid.uuid4().hex
        kept = {k: v for k, v in msg.items() if k not in stage.bulky} if stage.bulky else None
        wal.complete(task_id, stage.name, output, payload=kept)
    metrics.WAL_TASKS.labels("completed", stage.name).inc()
    metrics.STAGE_SECONDS.labels(stage.name).observe(time.monotonic() - started)
    return output


def retry_backoff(settings: Settings) -> tuple[float, int]:
    """(base seconds, max exponent): spec 60 s x 2^n, capped at 2^4 (16 min) instead of giving up."""
    from system.settings import GPT_RETRY_BASE_S

    return settings.scaled(GPT_RETRY_BASE_S), RETRY_MAX_EXPONENT


# ---- consumers ------------------------------------------------------------------------------
# Consumer threads of a stage: consume, run the task, publish the next message, then ack.
#
# A stage runs `stage_consumers` of them: each message's time is mostly waiting (S3, the
# publish confirm, the WAL fsync), so a few consumers overlap those waits. Every stage is
# idempotent on task_id, so parallel consumers never yield a second result.
#
# Each thread owns its BlockingConnection (pika connections belong to one thread) and
# reconnects to any cluster node after a broker error, polling rather than sleeping blind.

WAL_BACKOFF_MAX_S = 5.0
ACK_DELAY_MAX_S = 0.25  # a done message waits at most this long for its (batched) ack


class StageConsumer(threading.Thread):
    """Consumes a stage's input queue until stopped."""

    def __init__(
        self,
        stage: Stage,
        wal: WAL,
        settings: Settings,
        on_completed: threading.Event,
        on_state: Callable[[str], None],
        index: int = 0,
    ) -> None:
        super().__init__(name=f"consumer-{stage.name}-{index}", daemon=True)
        self.stage = stage
        self._wal = wal
        self._settings = settings
        self._on_completed = on_completed
        self._on_state = on_state
        self._halt = threading.Event()
        self.connected = False
        self._wal_backoff_s = 0.0
        self._ack_upto = 0  # delivery tag up to which every message is done and not yet acked
        self._ack_since = 0.0  # when the oldest of those was done
        self._lost_at: float | None = None  # when the broker connection was lost, until consuming again

    def stop(self) -> None:
        """Ask the loop to end after the current delivery."""
        self._halt.set()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._consume()
            except (BrokerUnavailable, pika.exceptions.AMQPError, OSError) as exc:
                log.warning("%s: broker connection lost: %r", self.stage.name, exc)
            except Exception:
                log.exception("%s: consumer crashed; reconnecting", self.stage.name)
            self._set_connected(False)
            if self._lost_at is None:
                self._lost_at = time.monotonic()
            self._halt.wait(1.0)

    def _set_connected(self, up: bool) -> None:
        self.connected = up
        self._on_state(self.stage.name)  # the worker sets consumer_up from all of the stage's consumers

    def _consume(self) -> None:
        started = time.monotonic()
        conn, node = connect_to_node(self._settings)
        try:
            connected = time.monotonic()
            channel = conn.channel()
            declare_topology(channel, self._settings)
            forward_channel = publish_channel(conn, self._settings)
            auto_ack = self._settings.is_unsafe("ack_before_wal")
            channel.basic_qos(prefetch_count=self._settings.prefetch)

            def on_message(ch: BlockingChannel, method: Basic.Deliver, _props: BasicProperties, body: bytes) -> None:
                self._handle(ch, forward_channel, method.delivery_tag, body, auto_ack)

            channel.basic_consume(self.stage.input_queue, on_message, auto_ack=auto_ack)
            self._set_connected(True)
            if self._lost_at is not None:
                # how long the consumer was away and where its way back spent the time, so a slow
                # recovery after a broker outage can be told apart from a slow broker
                now = time.monotonic()
                log.info(
                    "%s: consuming %s again on %s after %.1f s (connect %.1f s, declare and consume %.1f s)",
                    self.stage.name,
                    self.stage.input_queue,
                    node,
                    now - self._lost_at,
                    connected - started,
                    now - connected,
                )
                self._lost_at = None
            self._ack_upto = 0
            while not self._halt.is_set():
                # dispatches every delivery that arrived, then returns: one ack covers them all
                conn.process_data_events(time_limit=0.5)
                self._flush_acks(channel)
            self._flush_acks(channel)
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def _ack(self, ch: BlockingChannel, tag: int) -> None:
        """Ack `tag` with the next flush: the message is done (its output confirmed downstream).

        One multiple-ack per burst instead of one ack per message: each ack is a Raft command
        replicated on three nodes. A crash before the flush redelivers done messages, which
        the stage recalls from the WAL instead of redoing. A burst of slow tasks (up to
        `prefetch` of them) must not hold its acks for long, hence the age bound.
        """
        if not self._ack_upto:
            self._ack_since = time.monotonic()
        self._ack_upto = tag
        if time.monotonic() - self._ack_since >= ACK_DELAY_MAX_S:
            self._flush_acks(ch)

    def _flush_acks(self, ch: BlockingChannel) -> None:
        if self._ack_upto:
            ch.basic_ack(self._ack_upto, multiple=True)
            self._ack_upto = 0

    def _handle(self, ch: BlockingChannel, pub: BlockingChannel, tag: int, body: bytes, auto_ack: bool) -> None:
        try:
            msg: dict[str, Any] = json.loads(body)
            if not isinstance(msg, dict):
                raise PoisonMessage("message body is not a JSON object")
            output = run_task(self.stage, self._wal, msg, self._settings)
        except (PoisonMessage, ValueError) as exc:
            log.error("%s: dead-lettering poison message: %s", self.stage.name, exc)
            if not auto_ack:
                self._flush_acks(ch)
                ch.basic_reject(tag, requeue=False)
            return
        except ExternalFailure as exc:
            base, cap = retry_backoff(self._settings)
            self._wal.schedule_retry(str(msg["task_id"]), self.stage.name, str(exc)[:500], base, cap)
            if not auto_ack:
                self._ack(ch, tag)  # the WAL's retry_queue owns the task now
            return
        except (sqlite3.OperationalError, OSError) as exc:
            # The WAL cannot be written (disk full, I/O error): not the message's fault. Hold the
            # delivery for a growing pause (heartbeats keep flowing) before requeueing it, so a
            # local outage does not burn its delivery count and park acknowledged work in the DLQ.
            metrics.WAL_ERRORS.inc()
            if self._settings.is_unsafe("ack_on_wal_error"):
                log.error("%s: WAL write failed, dropping the delivery: %r", self.stage.name, exc)
                if not auto_ack:
                    self._ack(ch, tag)
                return
            self._wal_backoff_s = min(max(self._wal_backoff_s * 2, 0.5), WAL_BACKOFF_MAX_S)
            log.error("%s: WAL write failed, retrying in %.1fs: %r", self.stage.name, self._wal_backoff_s, exc)
            if not auto_ack:
                self._flush_acks(ch)
            ch.connection.sleep(self._wal_backoff_s)
            if not auto_ack:
                ch.basic_nack(tag, requeue=True)
            return
        except Exception as exc:
            # Unexpected (a bug): requeue; the queue's delivery limit dead-letters it.
            log.error("%s: task failed, requeueing: %r", self.stage.name, exc)
            metrics.WAL_ERRORS.inc()
            if not auto_ack:
                self._flush_acks(ch)
                ch.basic_nack(tag, requeue=True)
            return
        self._wal_backoff_s = 0.0
        if not self._forward_holding(ch, pub, output):
            if not auto_ack:
                self._flush_acks(ch)
                ch.basic_nack(tag, requeue=True)  # stopping: the next consumer recalls it from the WAL
            return
        if not auto_ack:
            self._ack(ch, tag)

    def _forward_holding(self, ch: BlockingChannel, pub: BlockingChannel, output: dict[str, Any]) -> bool:
        """Forward the output; while the broker refuses it (the next queue is blocked or full) keep
        the delivery in hand and try again after a growing pause, rather than requeue it: every
        requeue counts toward the delivery limit and would park acknowledged work in the DLQ.
        False only when the consumer is asked to stop first."""
        pause_s = 0.0
        while True:
            try:
                self.forward(pub, output)
                return True
            except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as exc:
                metrics.FORWARD_REFUSED.inc()
                pause_s = min(max(pause_s * 2, 0.25), WAL_BACKOFF_MAX_S)
                log.warning("%s: next queue refused the output, holding it %.1fs: %r", self.stage.name, pause_s, exc)
                ch.connection.sleep(pause_s)  # heartbeats keep flowing while we wait
                if self._halt.is_set():
                    return False

    def forward(self, pub: BlockingChannel, output: dict[str, Any]) -> None:
        """Publish the stage's output to the next queue (confirmed), or signal the sync."""
        if self.stage.output_queue is None:
            self._on_completed.set()
            return
        publish(pub, self._settings, self.stage.output_queue, output)
        self._on_completed.set()


def wait_for_broker(settings: Settings, stop: threading.Event, poll_s: float) -> None:
    """Block until some node accepts a connection (spec: poll every 5 s, time-scaled)."""
    while not stop.is_set():
        try:
            conn = connect(settings)
            conn.close()
            return
        except BrokerUnavailable as exc:
            log.info("waiting for RabbitMQ: %s", exc)
            stop.wait(poll_s)
