"""The spec's system health check, from the host against the running compose stack.

Each domain database answers SELECT 1; each queue's depth (warning above 1000); each worker's
pending WAL rows (warning above 100); each API's /health. Exit 0 when all is well, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
import urllib.request

import pika
import psycopg2

from system import topology
from system.broker import ALL_QUEUES, DEAD_LETTER_QUEUE
from system.credentials import AMQP_ADMIN, PG_SUPERUSER, amqp_password, pg_superuser_password

QUEUES = (*ALL_QUEUES, DEAD_LETTER_QUEUE)
QUEUE_WARN, WAL_WARN = 1000, 100


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except OSError as exc:
        return 0, {"error": str(exc)}


def main() -> int:
    """Print one line per check; the exit code says whether everything is healthy."""
    problems = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        print(f"{'OK  ' if ok else 'FAIL'} {what:32} {detail}")

    where = topology.load()
    for service, dbname in where.databases.items():
        name = "ecoeco_analytics" if service == "pg-analytics" else dbname  # the replica of ecoeco_waste
        try:
            with (
                psycopg2.connect(
                    host="127.0.0.1",
                    port=topology.host_port(service),
                    dbname=dbname,
                    user=PG_SUPERUSER,
                    password=pg_superuser_password(),
                    connect_timeout=3,
                ) as conn,
                conn.cursor() as cur,
            ):
                cur.execute("SELECT 1")
            report(True, f"db {name}", "SELECT 1")
        except psycopg2.Error as exc:
            report(False, f"db {name}", str(exc).strip().splitlines()[0])
    try:
        params = [
            pika.ConnectionParameters(
                "127.0.0.1",
                topology.host_port(node),
                credentials=pika.PlainCredentials(AMQP_ADMIN, amqp_password(AMQP_ADMIN)),
                connection_attempts=1,
                socket_timeout=3,
            )
            for node in where.broker_nodes
        ]
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        for q in QUEUES:
            depth = ch.queue_declare(q, passive=True).method.message_count
            report(depth <= QUEUE_WARN, f"queue {q}", f"{depth} messages")
        conn.close()
    except pika.exceptions.AMQPError as exc:
        report(False, "rabbitmq", repr(exc))
    for name in where.workers:
        status, body = _get(f"{topology.url(name)}/health")
        pending = int(str(body.get("wal_pending", -1)))
        report(status == 200 and 0 <= pending <= WAL_WARN, f"worker {name}", f"HTTP {status}, {pending} pending")
    for name in where.apis:
        status, body = _get(f"{topology.url(name)}/health")
        report(status == 200, f"api {name}", f"HTTP {status} {body.get('checks', body.get('error', ''))}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
