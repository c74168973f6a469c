"""The dead-letter queue, for an operator: list what is there and why, replay chosen messages.

    docker compose exec worker-storage python3 -m system.ops.dlq list [--limit N]
    docker compose exec worker-storage python3 -m system.ops.dlq replay TASK_ID [TASK_ID ...]
    docker compose exec worker-storage python3 -m system.ops.dlq replay --all

A dead letter keeps its source queue in RabbitMQ's `x-death` header (and `x-first-death-queue`).
Replay publishes the message again to that queue, confirmed, and only then acks it in the
dead-letter queue, so a replay interrupted at any point leaves the message in one of the two
queues (or both: the stages are idempotent, a second delivery does no work twice). Messages are
read without being consumed: whatever is not replayed goes back when the channel closes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from system import settings as settings_mod
from system.broker import ALL_QUEUES, DEAD_LETTER_QUEUE, BrokerUnavailable, Publisher, connect


@dataclass(frozen=True)
class DeadLetter:
    """One message of the dead-letter queue, as an operator needs to see it."""

    delivery_tag: int
    task_id: str | None  # None: the body is not a JSON object with a task_id (a poison message)
    source_queue: str | None
    reason: str | None  # rejected, expired, maxlen, delivery_limit
    count: int  # how often it was dead-lettered from its source
    body: dict[str, Any] | None


def parse(method: Basic.GetOk, props: BasicProperties, body: bytes) -> DeadLetter:
    """What a dead letter says about itself (RabbitMQ's x-death headers)."""
    headers = props.headers or {}
    deaths = headers.get("x-death") or [{}]
    first = deaths[0] if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict) else {}
    source = headers.get("x-first-death-queue") or first.get("queue")
    reason = headers.get("x-first-death-reason") or first.get("reason")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    data = parsed if isinstance(parsed, dict) else None
    task_id = str(data["task_id"]) if data and "task_id" in data else None
    return DeadLetter(
        int(method.delivery_tag),
        task_id,
        _text(source),
        _text(reason),
        int(first.get("count", 1) or 1),
        data,
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def read(channel: BlockingChannel, limit: int) -> list[DeadLetter]:
    """Up to `limit` dead letters, held unacked on `channel` (closing it returns them)."""
    out: list[DeadLetter] = []
    while len(out) < limit:
        method, props, body = channel.basic_get(DEAD_LETTER_QUEUE, auto_ack=False)
        if method is None:
            break
        out.append(parse(method, props, body))
    return out


def replay(
    channel: BlockingChannel, letters: list[DeadLetter], wanted: set[str] | None, publisher: Publisher
) -> tuple[list[DeadLetter], list[tuple[DeadLetter, str]]]:
    """Republish the chosen letters to their source queues (confirmed), then ack each one.
    `wanted` None replays every replayable letter. Returns (replayed, skipped with why)."""
    done: list[DeadLetter] = []
    skipped: list[tuple[DeadLetter, str]] = []
    for d in letters:
        if wanted is not None and d.task_id not in wanted:
            continue
        if d.body is None or d.task_id is None:
            skipped.append((d, "body is not a task message"))
        elif d.source_queue not in ALL_QUEUES:
            skipped.append((d, f"unknown source queue {d.source_queue!r}"))
        else:
            publisher.publish(d.source_queue, d.body)  # raises unless confirmed: the letter stays
            channel.basic_ack(d.delivery_tag)
            done.append(d)
    return done, skipped


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m system.ops.dlq", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="dead letters by task id, source queue and reason")
    ls.add_argument("--limit", type=int, default=1000)
    rp = sub.add_parser("replay", help="publish chosen dead letters to their source queue again")
    rp.add_argument("task_ids", nargs="*")
    rp.add_argument("--all", action="store_true", help="every dead letter that names its task and source")
    rp.add_argument("--limit", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.command == "replay" and not args.all and not args.task_ids:
        parser.error("name the task ids to replay, or --all")
    settings = settings_mod.get()
    try:
        conn = connect(settings)
    except BrokerUnavailable as exc:
        print(f"dlq: {exc}", file=sys.stderr)
        return 2
    try:
        channel = conn.channel()
        letters = read(channel, args.limit)
        if args.command == "list":
            print(
                f"{len(letters)} dead letter(s) in {DEAD_LETTER_QUEUE}"
                + (" (limit reached)" if len(letters) == args.limit else "")
            )
            for d in letters:
                print(
                    f"{d.task_id or '<not a task message>'}\tfrom {d.source_queue or '?'}\t"
                    f"reason {d.reason or '?'}\tx{d.count}"
                )
            return 0
        publisher = Publisher(settings)
        try:
            done, skipped = replay(channel, letters, None if args.all else set(args.task_ids), publisher)
        except BrokerUnavailable as exc:
            print(f"dlq: replay stopped, nothing lost (the rest stays dead-lettered): {exc}", file=sys.stderr)
            return 2
        finally:
            publisher.close()
        for d in done:
            print(f"replayed {d.task_id} to {d.source_queue}")
        for d, why in skipped:
            print(f"skipped {d.task_id or '<not a task message>'}: {why}", file=sys.stderr)
        missing = set(args.task_ids) - {d.task_id for d in done} - {d.task_id for d, _ in skipped}
        for task_id in sorted(missing):
            print(f"not in {DEAD_LETTER_QUEUE}: {task_id}", file=sys.stderr)
        return 0 if not skipped and not missing else 1
    finally:
        if conn.is_open:
            conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
