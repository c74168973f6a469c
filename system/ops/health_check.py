"""The spec's system health check, from the host against the running compose stack.

Each domain database answers SELECT 1; each queue's depth (warning above 1000); each worker's
pending WAL rows (warning above 100); each API's /health. Exit 0 when all is well, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

import pika
import psycopg2

PREFIX = os.environ.get("ECOECO_PORT_PREFIX", "170")
APIS = {
    "waste-api": "01",
    "auth-api": "02",
    "userinfo-api": "03",
    "location-api": "04",
    "recycle-api": "05",
    "chat-llm-api": "06",
}
WORKERS = {"worker-storage": "11", "worker-ai": "12"}
DATABASES = {
    "ecoeco_auth": ("21", "ecoeco_auth"),
    "ecoeco_waste": ("22", "ecoeco_waste"),
    "ecoeco_chat": ("23", "ecoeco_chat"),
    "ecoeco_location": ("24", "ecoeco_location"),
    "ecoeco_analytics": ("25", "ecoeco_waste"),
}
QUEUES = (
    "user_input_queue",
    "vision_analysis_queue",
    "rule_retrieval_queue",
    "response_generation_queue",
    "auth_queue",
    "location_query_queue",
    "analytics_queue",
    "dead_letter_queue",
)
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

    for name, (port, dbname) in DATABASES.items():
        try:
            with (
                psycopg2.connect(
                    host="127.0.0.1",
                    port=int(PREFIX + port),
                    dbname=dbname,
                    user="ecoeco",
                    password="ecoeco",
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
                int(PREFIX + p),
                credentials=pika.PlainCredentials("ecoeco", "ecoeco"),
                connection_attempts=1,
                socket_timeout=3,
            )
            for p in ("31", "32", "33")
        ]
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        for q in QUEUES:
            depth = ch.queue_declare(q, passive=True).method.message_count
            report(depth <= QUEUE_WARN, f"queue {q}", f"{depth} messages")
        conn.close()
    except pika.exceptions.AMQPError as exc:
        report(False, "rabbitmq", repr(exc))
    for name, port in WORKERS.items():
        status, body = _get(f"http://127.0.0.1:{PREFIX}{port}/health")
        pending = int(str(body.get("wal_pending", -1)))
        report(status == 200 and 0 <= pending <= WAL_WARN, f"worker {name}", f"HTTP {status}, {pending} pending")
    for name, port in APIS.items():
        status, body = _get(f"http://127.0.0.1:{PREFIX}{port}/health")
        report(status == 200, f"api {name}", f"HTTP {status} {body.get('checks', body.get('error', ''))}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
