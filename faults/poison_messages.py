"""Poison messages: unprocessable messages published into a work queue must end in the dead-letter queue."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pika
import pika.exceptions

from core.evidence import EffectCheck
from faults.amqp import amqp_connection, queue_depth
from faults.base import TAG, Fault, FaultError, wait_for
from faults.target import Project
from system.broker import DEAD_LETTER_QUEUE

# Malformed JSON, and well-formed JSON without a task_id: a consumer can process neither.
POISON_BODIES = (b'{"task_id": "ecoeco-fault-poison", "image": ', json.dumps({"ecoeco_fault": "poison"}).encode())


class PoisonMessages(Fault):
    """Publish unprocessable messages (persistent, confirmed) into a work queue."""

    name = "poison_messages"

    def __init__(
        self,
        stack: Project,
        queue: str = "user_input_queue",
        count: int = 2,
        node: str = "rabbitmq-1",
        dead_letter_timeout_s: float = 30.0,
    ) -> None:
        self.stack, self.queue, self.count, self.node = stack, queue, count, node
        self.dead_letter_timeout_s = dead_letter_timeout_s  # how long evidence waits for the DLQ to grow
        self._baseline: int | None = None
        self._published = 0

    def inject(self) -> None:
        """Publish `count` poison messages with confirms; FaultError if one is not confirmed."""
        conn = amqp_connection(self.stack, self.node)
        try:
            channel = conn.channel()
            self._baseline = queue_depth(channel, DEAD_LETTER_QUEUE)
            channel.confirm_delivery()
            for i in range(self.count):
                props = pika.BasicProperties(
                    delivery_mode=2,
                    content_type="application/json",
                    message_id=f"{TAG}-poison-{i}",
                    headers={"x-ecoeco-fault": "poison"},
                )
                try:
                    channel.basic_publish("", self.queue, POISON_BODIES[i % len(POISON_BODIES)], props, mandatory=True)
                except pika.exceptions.AMQPError as exc:
                    raise FaultError(f"poison message {i} to {self.queue} not confirmed: {exc!r}") from exc
                self._published += 1
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def heal(self) -> None:
        """Nothing to undo: the messages are consumed or dead-lettered by the system itself."""

    def _dead_lettered(self) -> int:
        conn = amqp_connection(self.stack, self.node)
        try:
            return queue_depth(conn.channel(), DEAD_LETTER_QUEUE) - (self._baseline or 0)
        finally:
            conn.close()

    def evidence(self) -> list[EffectCheck]:
        """Every poison message confirmed; the dead-letter queue grew by at least as many (waits a while)."""
        out = [
            EffectCheck(
                "published",
                self._published == self.count and self.count > 0,
                f"{self._published} of {self.count} confirmed into {self.queue}",
            )
        ]
        if self._baseline is None:
            return out
        last = [0]

        def enough() -> bool:
            last[0] = self._dead_lettered()
            return last[0] >= self._published

        with contextlib.suppress(FaultError):  # the deadline passing is itself the evidence
            wait_for(enough, timeout_s=self.dead_letter_timeout_s, what="poison messages dead-lettered", interval_s=0.5)
        grown = last[0]
        detail = f"{DEAD_LETTER_QUEUE} grew by {grown} (baseline {self._baseline}; other traffic counts too)"
        out.append(EffectCheck("dead-lettered", grown >= self._published, detail))
        return out

    def describe(self) -> dict[str, Any]:
        """Queue, count, node."""
        return {"fault": self.name, "queue": self.queue, "count": self.count, "node": self.node}
