"""The operator's dead-letter tool (system/ops/dlq.py) against the real broker, run where an operator
runs it: inside the worker container."""

from __future__ import annotations

import json
import uuid

import pika
import pytest

from harness import observe
from harness.stack import Stack
from system.broker import DEAD_LETTER_QUEUE, DLX

pytestmark = pytest.mark.integration
SOURCE = "analytics_queue"  # declared like every work queue, and no service consumes it


def dlq(stack: Stack, *args: str) -> tuple[int, str]:
    code, out = stack.container("worker-storage").exec_run(["python3", "-m", "system.ops.dlq", *args])
    return int(code), out.decode()


def dead_letter(ch: pika.adapters.blocking_connection.BlockingChannel, body: bytes, tag: str) -> None:
    """A message as RabbitMQ dead-letters it from SOURCE after the delivery limit."""
    headers = {
        "x-first-death-queue": SOURCE,
        "x-first-death-reason": "delivery_limit",
        "x-death": [{"queue": SOURCE, "reason": "delivery_limit", "count": 20, "exchange": ""}],
    }
    ch.basic_publish(DLX, "", body, pika.BasicProperties(headers=headers, message_id=tag, delivery_mode=2))


def take(ch: pika.adapters.blocking_connection.BlockingChannel, queue: str, tag: str) -> list[bytes]:
    """Remove and return the messages of `queue` whose message_id is `tag` (others go back)."""
    found: list[bytes] = []
    keep: list[int] = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=False)
        if method is None:
            break
        if props.message_id == tag or (body and tag.encode() in body):
            ch.basic_ack(method.delivery_tag)
            found.append(body)
        else:
            keep.append(method.delivery_tag)
    for t in keep:
        ch.basic_nack(t, requeue=True)
    return found


def test_list_then_replay_one_dead_letter_to_its_source_queue(stack: Stack) -> None:
    tag = f"dlq-test-{uuid.uuid4().hex}"
    task_id = f"{tag}-task"
    with observe.amqp_channel(stack.config) as ch:
        dead_letter(ch, json.dumps({"task_id": task_id, "user_id": 1}).encode(), tag)
        dead_letter(ch, b"\x00not json", tag)
    code, out = dlq(stack, "list")
    assert code == 0, out
    line = next(x for x in out.splitlines() if x.startswith(task_id))
    assert f"from {SOURCE}" in line and "reason delivery_limit" in line and "x20" in line
    assert "<not a task message>" in out
    code, out = dlq(stack, "replay", task_id, f"{tag}-absent")
    assert code == 1 and f"replayed {task_id} to {SOURCE}" in out and f"not in {DEAD_LETTER_QUEUE}: {tag}-absent" in out
    with observe.amqp_channel(stack.config) as ch:
        assert [json.loads(b) for b in take(ch, SOURCE, tag)] == [{"task_id": task_id, "user_id": 1}]
        left = take(ch, DEAD_LETTER_QUEUE, tag)  # also cleans up
    assert left == [b"\x00not json"]  # replayed once, and the poison message is not replayed by id
    code, out = dlq(stack, "replay")
    assert code == 2 and "name the task ids" in out
