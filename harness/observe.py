"""Read-only looks into the running system: queue depths, dead letters, WALs, results.

These are the audit's sources of truth (Jepsen's "final read"): what the system of record
holds after the drain, independent of what any API says.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator

import pika
import pika.exceptions
import psycopg2
import psycopg2.extras
from pika.adapters.blocking_connection import BlockingChannel

from harness.config import HarnessConfig
from system.broker import ALL_QUEUES, DEAD_LETTER_QUEUE

QUEUES = (*ALL_QUEUES, DEAD_LETTER_QUEUE)  # the system's own topology (system/broker.py)
WORKERS = ("worker-storage", "worker-ai")


@contextlib.contextmanager
def amqp_channel(config: HarnessConfig) -> Iterator[BlockingChannel]:
    """A channel to the first broker node that answers on the loopback."""
    creds = pika.PlainCredentials("ecoeco", "ecoeco")
    params = [pika.ConnectionParameters("127.0.0.1", config.port(f"rabbitmq-{n}"), credentials=creds,
                                        socket_timeout=2, blocked_connection_timeout=3, connection_attempts=1,
                                        stack_timeout=3)
              for n in (1, 2, 3)]
    conn = pika.BlockingConnection(params)
    try:
        yield conn.channel()
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def queue_depths(config: HarnessConfig) -> dict[str, int]:
    """Ready + unacked messages per queue (passive declare: never creates a queue)."""
    depths: dict[str, int] = {}
    with amqp_channel(config) as ch:
        for q in QUEUES:
            try:
                depths[q] = ch.queue_declare(q, passive=True).method.message_count
            except pika.exceptions.ChannelClosedByBroker:
                ch = ch.connection.channel()  # the queue does not exist yet
    return depths


def dead_lettered_ids(config: HarnessConfig, limit: int = 10_000) -> set[str]:
    """task_ids of messages in the dead-letter queue, read without consuming them."""
    ids: set[str] = set()
    with amqp_channel(config) as ch:
        for _ in range(limit):
            method, props, body = ch.basic_get("dead_letter_queue", auto_ack=False)
            if method is None:
                break
            try:
                ids.add(str(json.loads(body)["task_id"]))
            except (ValueError, KeyError, TypeError):
                ids.add(f"<unparseable:{props.message_id or '?'}>")
        # closing the channel without acks returns every message to the queue
    return ids


def pg(config: HarnessConfig, service: str) -> psycopg2.extensions.connection:
    """A connection to one database server from the host."""
    return psycopg2.connect(config.dsn(service))


def results_counts(config: HarnessConfig, since_unix: float = 0.0) -> dict[str, int]:
    """task_id -> final results stored, for tasks accepted since `since_unix` (results_log shows duplicates)."""
    with contextlib.closing(pg(config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute("SELECT r.task_id, count(*) FROM results_log r LEFT JOIN tasks t USING (task_id) "
                    "WHERE t.created_at IS NULL OR t.created_at >= to_timestamp(%s) GROUP BY r.task_id",
                    (since_unix,))
        return {str(t): int(n) for t, n in cur.fetchall()}


def completion_times(config: HarnessConfig, task_ids: list[str]) -> dict[str, float]:
    """task_id -> unix time its result was stored."""
    if not task_ids:
        return {}
    with contextlib.closing(pg(config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, extract(epoch FROM stored_at) FROM results WHERE task_id = ANY(%s)",
                    (task_ids,))
        return {str(t): float(s) for t, s in cur.fetchall()}


def chat_counts(config: HarnessConfig, since_unix: float = 0.0) -> dict[str, int]:
    """message_id -> stored rows in ecoeco_chat, for messages stored since `since_unix`."""
    with contextlib.closing(pg(config, "pg-chat")) as conn, conn.cursor() as cur:
        cur.execute("SELECT message_id, count(*) FROM messages WHERE created_at >= to_timestamp(%s) "
                    "GROUP BY message_id", (since_unix,))
        return {str(m): int(n) for m, n in cur.fetchall()}


def wal_unfinished(wal_path: str) -> set[str]:
    """task_ids a worker's WAL holds unfinished (or completed but not yet synced)."""
    conn = sqlite3.connect(f"file:{wal_path}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT task_id FROM task_wal WHERE status IN ('pending','running','republished') "
            "OR (status='completed' AND sync_status='pending')"
        ).fetchall()
        return {str(r[0]) for r in rows}
    finally:
        conn.close()


def wal_row_count(wal_path: str) -> int:
    """All rows of a worker's task_wal."""
    conn = sqlite3.connect(f"file:{wal_path}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT count(*) FROM task_wal").fetchone()[0])
    finally:
        conn.close()
