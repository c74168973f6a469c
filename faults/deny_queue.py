"""Block one queue: nobody may consume from it (the broker refuses it), while publishers still
fill it. RabbitMQ has no "pause a queue", and a max-length policy only throttles a quorum queue
that is being consumed (its overflow check is approximate); a read permission that excludes the
queue, with the connections that consume it closed, blocks it for real and loses nothing.
"""

from __future__ import annotations

from typing import Any

import pika
import pika.exceptions
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults.amqp import NODES, amqp_connection, running_node
from faults.base import TAG, Fault, FaultError, wait_for
from faults.target import Project
from system.credentials import AMQP_SERVICE_USERS

ALL = ".*"


def set_permissions(container: Container, user: str, read: str, vhost: str = "/") -> None:
    """configure and write stay open; read is `read`."""
    result = container.exec_run(["rabbitmqctl", "set_permissions", "-p", vhost, user, ALL, ALL, read])
    if result.exit_code != 0:
        raise FaultError(f"set_permissions failed: {result.output.decode(errors='replace').strip()}")


class DenyQueue(Fault):
    """Refuse every consumer of one queue until heal; messages wait in it."""

    name = "deny_queue"

    def __init__(
        self,
        stack: Project,
        queue: str,
        users: tuple[str, ...] = tuple(AMQP_SERVICE_USERS.values()),
        nodes: tuple[str, ...] = NODES,
    ) -> None:
        # every service's user: whichever consumes the queue is refused
        self.stack, self.queue, self.users, self.nodes = stack, queue, users, nodes
        self._denied = False

    def _node(self) -> tuple[str, Container]:
        return running_node(self.stack, self.nodes)

    def inject(self) -> None:
        """Deny reads of the queue, then close every client connection so consumers must ask again."""
        _node, container = self._node()
        self._denied = True  # heal restores the permission even if the rest fails
        for user in self.users:
            set_permissions(container, user, f"^(?!{self.queue}$).*")
        result = container.exec_run(
            ["rabbitmqctl", "close_all_connections", "--vhost", "/", f"{TAG}: {self.queue} blocked"]
        )
        if result.exit_code != 0:
            raise FaultError(f"close_all_connections failed: {result.output.decode(errors='replace').strip()}")
        wait_for(lambda: self._consumers() == 0, timeout_s=15, what=f"no consumer left on {self.queue}", interval_s=0.5)

    def _consumers(self) -> int | None:
        node, _ = self._node()
        conn = amqp_connection(self.stack, node)
        try:
            return int(conn.channel().queue_declare(self.queue, passive=True).method.consumer_count)
        except pika.exceptions.AMQPError:
            return None
        finally:
            if conn.is_open:
                conn.close()

    def heal(self) -> None:
        """Open reads again; the consumers get in at their next reconnect."""
        if self._denied:
            _node, container = self._node()
            for user in self.users:
                set_permissions(container, user, ALL)
            self._denied = False

    def evidence(self) -> list[EffectCheck]:
        """No consumer on the queue, and a consume of it is refused."""
        if not self._denied:
            return [EffectCheck("denied", False, "reads are not denied")]
        consumers = self._consumers()
        out = [EffectCheck("no-consumers", consumers == 0, f"{self.queue} has {consumers} consumers")]
        node, _ = self._node()
        for user in self.users:  # each service's user is refused, whichever consumes the queue
            conn = amqp_connection(self.stack, node, user=user)
            try:
                ch = conn.channel()
                try:
                    ch.basic_consume(self.queue, lambda *_: None)
                    out.append(EffectCheck(f"consume-refused:{user}", False, "a consume was accepted"))
                except pika.exceptions.ChannelClosedByBroker as exc:
                    out.append(
                        EffectCheck(f"consume-refused:{user}", exc.reply_code == 403, f"refused: {exc.reply_text}")
                    )
            finally:
                if conn.is_open:
                    conn.close()
        return out

    def describe(self) -> dict[str, Any]:
        """Queue and users."""
        return {"fault": self.name, "queue": self.queue, "users": list(self.users)}
