"""Block a queue: a RabbitMQ policy (max-length 0, reject-publish) makes the broker nack publishes to it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pika
import pika.exceptions
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.amqp import NODES, amqp_connection, running_node
from faults.base import TAG, Fault, FaultError, wait_for
from faults.target import Project


class BlockQueue(Fault):
    """A RabbitMQ policy max-length 0 + reject-publish: every publish to the queue is nacked."""

    name = "block_queue"

    def __init__(
        self, stack: Project, queue: str = "vision_analysis_queue", nodes: Sequence[str] = NODES, priority: int = 1000
    ) -> None:
        self.stack, self.queue, self.nodes, self.priority = stack, queue, list(nodes), priority
        self.policy = f"{TAG}-block-{queue}"
        self._set = False

    def _node(self) -> tuple[str, Container]:
        return running_node(self.stack, self.nodes)

    def inject(self) -> None:
        """Set the policy, then wait until the queue reports it in effect."""
        _node, container = self._node()
        definition = json.dumps({"max-length": 0, "overflow": "reject-publish"})
        self._set = True  # heal clears it even if the command half-succeeded
        result = container.exec_run(
            [
                "rabbitmqctl",
                "set_policy",
                "--apply-to",
                "queues",
                "--priority",
                str(self.priority),
                self.policy,
                f"^{self.queue}$",
                definition,
            ]
        )
        if result.exit_code != 0:
            raise FaultError(f"set_policy failed: {result.output.decode(errors='replace').strip()}")
        wait_for(
            lambda: self._effective_policy(container) == self.policy,
            timeout_s=15,
            what=f"policy {self.policy} in effect on {self.queue}",
            interval_s=0.5,
        )

    def _effective_policy(self, container: Container) -> str:
        result = container.exec_run(["rabbitmqctl", "-q", "list_queues", "--no-table-headers", "name", "policy"])
        for line in result.output.decode(errors="replace").splitlines():
            fields = line.split()
            if fields and fields[0] == self.queue:
                return fields[1] if len(fields) > 1 else ""
        return ""

    def heal(self) -> None:
        """Clear the policy; a policy that is already gone is fine."""
        if not self._set:
            return
        _node, container = self._node()
        result = container.exec_run(["rabbitmqctl", "clear_policy", self.policy])
        output = result.output.decode(errors="replace")
        if result.exit_code != 0 and "does not exist" not in output:
            raise FaultError(f"clear_policy {self.policy} failed: {output.strip()}")
        self._set = False

    def evidence(self) -> list[EffectCheck]:
        """The policy applies to the queue; a confirmed probe publish is nacked."""
        if not self._set:
            return [EffectCheck("policy", False, "no policy was set")]
        node, container = self._node()
        effective = self._effective_policy(container)
        out = [EffectCheck("policy", effective == self.policy, f"{self.queue} effective policy: {effective or 'none'}")]
        # An empty quorum queue accepts one message before it starts rejecting (its overflow check is
        # approximate), so up to three probes; the accepted ones stay in the queue as poison.
        conn = amqp_connection(self.stack, node)
        try:
            channel = conn.channel()
            channel.confirm_delivery()
            for attempt in range(1, 4):
                props = pika.BasicProperties(delivery_mode=2, headers={"x-ecoeco-fault": "probe"})
                try:
                    channel.basic_publish(
                        "", self.queue, json.dumps({"ecoeco_fault": "probe"}).encode(), props, mandatory=True
                    )
                except pika.exceptions.NackError:
                    out.append(EffectCheck("publish-nacked", True, f"probe {attempt} nacked ({attempt - 1} accepted)"))
                    return out
        finally:
            if conn.is_open:
                conn.close()
        out.append(EffectCheck("publish-nacked", False, "3 probe publishes were confirmed"))
        return out

    def describe(self) -> dict[str, Any]:
        """Queue, policy name and priority."""
        return {"fault": self.name, "queue": self.queue, "policy": self.policy, "priority": self.priority}
