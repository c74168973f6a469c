"""Read-only looks into the running system: queue depths, dead letters, WALs, results, and a
service's own counters (one scrape of its /metrics, judged by core/counters.py).

These are the audit's sources of truth (Jepsen's "final read"): what the system of record
holds after the drain, independent of what any API says.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import boto3
import httpx
import pika
import pika.exceptions
import psycopg2
import psycopg2.extras
from pika.adapters.blocking_connection import BlockingChannel
from prometheus_client.parser import text_string_to_metric_families

from core.counters import START_TIME, CounterSpec, Snapshot
from faults.amqp import loopback_parameters
from harness.config import HarnessConfig
from system import topology
from system.broker import ALL_QUEUES, DEAD_LETTER_QUEUE, PIPELINE_QUEUES
from system.settings import Settings

QUEUES = (*ALL_QUEUES, DEAD_LETTER_QUEUE)  # the system's own topology (system/broker.py)
S3_BUCKET = Settings().s3_bucket
WORKERS = topology.load().workers
RABBITMQ_METRICS_PORT = 15692  # each node's Prometheus endpoint


@contextlib.contextmanager
def amqp_channel(config: HarnessConfig) -> Iterator[BlockingChannel]:
    """A channel to the first broker node that answers on the loopback."""
    params = [loopback_parameters(config.port(node), timeout_s=2.0) for node in topology.load().broker_nodes]
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
    """task_id -> distinct attempts that wrote a final result, for tasks accepted since `since_unix`
    (results_log logs every write attempt: a result sent again keeps its attempt, work done twice
    does not), and for results with no accepted task that were written since then.

    The second part is time-scoped too: a control that loses acceptances (a killed database
    without synchronous commit) leaves orphan results behind, and they belong to its audit, not to
    every scenario after it on the same stack."""
    with contextlib.closing(pg(config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT r.task_id, count(DISTINCT r.attempt) FROM results_log r LEFT JOIN tasks t USING (task_id) "
            "GROUP BY r.task_id, t.created_at "
            "HAVING t.created_at >= to_timestamp(%s) "
            "OR (t.created_at IS NULL AND max(r.stored_at) >= to_timestamp(%s))",
            (since_unix, since_unix),
        )
        return {str(t): int(n) for t, n in cur.fetchall()}


def accepted_tasks(config: HarnessConfig, since_unix: float = 0.0) -> set[str]:
    """task_ids with a `tasks` row (the upload's acceptance, committed before its 202)."""
    with contextlib.closing(pg(config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id FROM tasks WHERE created_at >= to_timestamp(%s)", (since_unix - 5.0,))
        return {str(r[0]) for r in cur.fetchall()}


def stored_results(config: HarnessConfig, task_ids: list[str]) -> dict[str, tuple[str, str]]:
    """task_id -> (attempt, answer) of the stored result."""
    if not task_ids:
        return {}
    with contextlib.closing(pg(config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, attempt, answer FROM results WHERE task_id = ANY(%s)", (task_ids,))
        return {str(t): (str(a), str(ans)) for t, a, ans in cur.fetchall()}


# WAL rows taken and not done: what a restart replays (system/workers/recovery.py)
IN_HAND = "status IN ('pending','running','republished')"


def _read_wal(wal_path: str) -> contextlib.closing[sqlite3.Connection]:
    """A read-only connection to a worker's WAL file from the host, closed on leaving the block."""
    return contextlib.closing(sqlite3.connect(f"file:{wal_path}?mode=ro", uri=True, timeout=5))


def wal_outputs(wal_path: str, task_name: str) -> dict[str, tuple[str, str]]:
    """task_id -> (attempt, answer) of the completed rows of one stage in a worker's WAL."""
    with _read_wal(wal_path) as conn:
        rows = conn.execute(
            "SELECT task_id, output FROM task_wal WHERE task_name=? AND status='completed'", (task_name,)
        ).fetchall()
    out: dict[str, tuple[str, str]] = {}
    for task_id, output in rows:
        with contextlib.suppress(ValueError, TypeError):
            body = json.loads(output)
            out[str(task_id)] = (str(body.get("attempt", "")), str(body.get("answer", "")))
    return out


def queued_ids(config: HarnessConfig, limit: int = 5_000) -> dict[str, set[str]]:
    """queue -> task_ids of the messages ready in it, read without consuming them (messages a
    consumer holds unacknowledged are not visible; queue_counts gives their number)."""
    found: dict[str, set[str]] = {}
    with amqp_channel(config) as ch:
        for q in PIPELINE_QUEUES:
            ids: set[str] = set()
            for _ in range(limit):
                method, _props, body = ch.basic_get(q, auto_ack=False)
                if method is None:
                    break
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    ids.add(str(json.loads(body)["task_id"]))
            found[q] = ids
            ch.close()  # returns every message got so far to its queue
            ch = ch.connection.channel()
    return found


def s3_keys(config: HarnessConfig, prefix: str = "uploads/") -> set[str]:
    """Object keys (without the prefix) in the images bucket, read from the S3 stand-in."""
    client = boto3.client(
        "s3",
        endpoint_url=config.url("s3"),
        region_name="us-east-1",
        aws_access_key_id="fake",
        aws_secret_access_key="fake",
    )
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix):
        keys |= {str(o["Key"])[len(prefix) :] for o in page.get("Contents", [])}
    return keys


def users(config: HarnessConfig, usernames: list[str]) -> dict[str, str]:
    """username -> display_name of the accounts that exist in ecoeco_auth, among `usernames`."""
    if not usernames:
        return {}
    with contextlib.closing(pg(config, "pg-auth")) as conn, conn.cursor() as cur:
        cur.execute("SELECT username, display_name FROM users WHERE username = ANY(%s)", (usernames,))
        return {str(u): str(d) for u, d in cur.fetchall()}


def completion_times(config: HarnessConfig, task_ids: list[str]) -> dict[str, float]:
    """task_id -> unix time its result was stored."""
    if not task_ids:
        return {}
    with contextlib.closing(pg(config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, extract(epoch FROM stored_at) FROM results WHERE task_id = ANY(%s)", (task_ids,))
        return {str(t): float(s) for t, s in cur.fetchall()}


def chat_counts(config: HarnessConfig, since_unix: float = 0.0) -> dict[str, int]:
    """message_id -> replies written for it (chat_log: one per GPT answer stored or tried), for
    messages stored since `since_unix`; 0 for a reply logged but no message stored."""
    with contextlib.closing(pg(config, "pg-chat")) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT l.message_id, CASE WHEN m.message_id IS NULL THEN 0 ELSE count(DISTINCT l.reply_id) END "
            "FROM chat_log l LEFT JOIN messages m USING (message_id) "
            "WHERE l.logged_at >= to_timestamp(%s) GROUP BY l.message_id, m.message_id",
            (since_unix,),
        )
        return {str(m): int(n) for m, n in cur.fetchall()}


def wal_unfinished(wal_path: str) -> set[str]:
    """task_ids a worker's WAL holds unfinished (or completed but not yet synced)."""
    with _read_wal(wal_path) as conn:
        rows = conn.execute(
            f"SELECT task_id FROM task_wal WHERE {IN_HAND} OR (status='completed' AND sync_status='pending')"
        ).fetchall()
    return {str(r[0]) for r in rows}


def wal_in_hand(wal_path: str) -> int:
    """WAL rows a kill would interrupt: taken, not done (a restart replays them)."""
    with _read_wal(wal_path) as conn:
        row = conn.execute(f"SELECT count(*) FROM task_wal WHERE {IN_HAND}").fetchone()
    return int(row[0])


def parse_metrics(text: str) -> Snapshot:
    """A Snapshot from Prometheus text exposition."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    started: float | None = None
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if not math.isfinite(s.value):
                continue
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
            if s.name == START_TIME:
                started = s.value
    return Snapshot(samples, started)


def scrape(url: str, timeout_s: float = 2.0, params: Mapping[str, str] | None = None) -> Snapshot:
    """One scrape of a /metrics URL; an unreachable service gives an empty Snapshot."""
    try:
        response = httpx.get(url, params=params, timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError:
        return Snapshot(None, None)
    return parse_metrics(response.text)


QUEUE_COUNT_KIND = {"rabbitmq_detailed_queue_messages_ready": 0, "rabbitmq_detailed_queue_messages_unacked": 1}


def replayed_rows(worker: str) -> CounterSpec:
    """The worker's own count of unfinished WAL rows its start republished (the WAL replay)."""
    return CounterSpec(
        worker,
        "wal_recovered_tasks_total",
        {"action": "republished"},
        "unfinished WAL rows republished at start (WAL replay)",
    )


def queue_counts(config: HarnessConfig) -> dict[str, tuple[int, int]] | None:
    """queue -> (ready, unacknowledged) from RabbitMQ's own statistics (each node reports the
    queues it leads; refreshed every second), or None when no node answered."""
    counts: dict[str, list[int]] = {}
    answered = False
    urls = [f"{config.url(node, RABBITMQ_METRICS_PORT)}/metrics/detailed" for node in topology.load().broker_nodes]
    # side by side: a paused node costs its whole timeout, and all three are paused in F4-freeze and F6
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        snaps = list(pool.map(lambda url: scrape(url, params={"family": "queue_coarse_metrics"}), urls))
    for snap in snaps:
        if snap.samples is None:
            continue
        answered = True
        for (name, labels), value in snap.samples.items():
            kind, queue = QUEUE_COUNT_KIND.get(name), dict(labels).get("queue")
            if kind is not None and queue:
                pair = counts.setdefault(queue, [0, 0])
                pair[kind] = max(pair[kind], int(value))
    return {q: (r, u) for q, (r, u) in counts.items()} if answered else None


def outbox_pending(config: HarnessConfig) -> set[str]:
    """task_ids of accepted uploads whose message the broker has not confirmed yet (waste-api's outbox)."""
    with contextlib.closing(pg(config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id FROM outbox")
        return {str(r[0]) for r in cur.fetchall()}


def in_flight(config: HarnessConfig) -> dict[str, int]:
    """Work the system holds right now, per place: `queue:<name>` (ready + unacked), `wal:<worker>`
    (rows not done, or done and not synced), `outbox`. A place that could not be read is left out."""
    out: dict[str, int] = {}
    counts = queue_counts(config)
    for q, (ready, unacked) in (counts or {}).items():
        if q in ALL_QUEUES:
            out[f"queue:{q}"] = ready + unacked
    for worker in WORKERS:
        try:
            body = httpx.get(f"{config.url(worker)}/health", timeout=1.0).json()
            out[f"wal:{worker}"] = int(body["wal_pending"]) + int(body["wal_unsynced"])
        except (httpx.HTTPError, ValueError, KeyError):
            pass
    with contextlib.suppress(psycopg2.Error):
        out["outbox"] = len(outbox_pending(config))
    return out
