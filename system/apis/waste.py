"""waste-api: accepts image uploads and reports task status and results.

Choice for RabbitMQ outages (spec section 6 leaves it open): an outbox. An upload is
acknowledged (202) once it is committed in ecoeco_waste together with its outbox row; the
request then hands the message to the relay thread and returns, so no request ever waits on
the broker. The relay publishes handed-over messages at once and, every half second, outbox
rows nobody published (broker down, process restarted); a row goes once the broker confirmed
it. So nothing acknowledged is lost while the broker is down or frozen, and uploads keep being
accepted at their usual speed; only a down ecoeco_waste makes uploads fail (503).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import queue
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import psycopg2
from fastapi import Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import JSONResponse

from system import metrics
from system import settings as settings_mod
from system.apis.common import MULTIPART_OVERHEAD, create_app, current_user, serve
from system.apis.openapi_doc import errors
from system.broker import BrokerUnavailable, Publisher
from system.db import Database, DatabaseUnavailable

log = logging.getLogger(__name__)
settings = settings_mod.get()
db = Database(settings.pg_dsn["waste"], "ecoeco_waste")
publisher = Publisher(settings)
TASK_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"  # the form's pattern (OpenAPI)
TASK_ID = re.compile(TASK_ID_PATTERN)  # used with fullmatch: match's `$` would let a trailing newline in
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
RELAY_PERIOD_S = 0.5
RELAY_BATCH = 50  # outbox rows published per scan (each body holds a whole image)
RELAY_SCAN_IDS = 2000  # ids read per scan, most of them possibly still in the hand-over
# A scan's rows go out on this many connections at once: each publish of a whole image waits for
# its quorum confirm, so one connection relayed ~5.5/s and a broker outage's backlog drained at
# that pace, not at the pipeline's.
RELAY_PUBLISHERS = 4
relay_publishers = [Publisher(settings) for _ in range(RELAY_PUBLISHERS)]
relay_pool = ThreadPoolExecutor(RELAY_PUBLISHERS, thread_name_prefix="outbox-publish")
MARK_PERIOD_S = 0.1

app = create_app(
    "waste-api",
    lambda: {"ecoeco_waste": db.ping()},
    body_limit=settings.max_upload_bytes + MULTIPART_OVERHEAD,
    authenticated=(("POST", "/tasks"),),
)


class PublishedMarks:
    """Outbox rows that are published but not yet removed; removed in one DELETE per flush.

    Removing each upload's row in its own transaction was a second commit on the request path.
    A published row goes (its body holds the whole image: kept, the outbox would only grow). If
    the process dies before a flush, the relay publishes those rows once more; the idempotent
    consumers absorb the duplicate.
    """

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, task_id: str) -> None:
        """Remember that `task_id` was published (confirmed)."""
        with self._lock:
            self._ids.add(task_id)

    def __contains__(self, task_id: object) -> bool:
        with self._lock:
            return task_id in self._ids

    def flush(self) -> None:
        """Delete every remembered row; on a database error keep them for the next flush."""
        with self._lock:
            ids = list(self._ids)
        if not ids:
            return
        try:
            with db.transaction() as cur:
                cur.execute("DELETE FROM outbox WHERE task_id = ANY(%s)", (ids,))
        except DatabaseUnavailable as exc:
            log.warning("could not remove %d published outbox rows: %s", len(ids), exc)
            return
        with self._lock:
            self._ids.difference_update(ids)


marks = PublishedMarks()


class HandOver:
    """Messages of fresh uploads, handed from the request path to the relay thread. Bounded: when
    it is full (the broker is slow or down) an upload is left to the outbox scan instead."""

    def __init__(self, size: int = 1000) -> None:
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(maxsize=size)
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def put(self, task_id: str, body: dict[str, Any]) -> None:
        """Hand one message over (or leave it to the outbox scan if the hand-over is full)."""
        with self._lock:
            self._ids.add(task_id)
        try:
            self._queue.put_nowait((task_id, body))
        except queue.Full:
            self.done(task_id)

    def get(self, timeout_s: float) -> tuple[str, dict[str, Any]] | None:
        """The next message, or None after `timeout_s`."""
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def done(self, task_id: str) -> None:
        """The relay is finished with this message (published, or left to the outbox scan)."""
        with self._lock:
            self._ids.discard(task_id)

    def __contains__(self, task_id: object) -> bool:
        with self._lock:
            return task_id in self._ids


handed = HandOver()


def _publish_outbox(task_id: str, body: dict[str, Any], via: Publisher | None = None) -> bool:
    try:
        (via or publisher).publish("user_input_queue", body)
    except BrokerUnavailable as exc:
        metrics.BROKER_PUBLISH_FAILURES.inc()
        log.warning("publish of %s deferred to the outbox scan: %s", task_id, exc)
        if settings.is_unsafe("outbox_marks_failed"):
            marks.add(task_id)  # planted: the row goes although the broker never took the message
        return False
    marks.add(task_id)
    return True


@app.post("/tasks", status_code=202, responses=errors(409, 413, 415))
def submit(
    image: Annotated[UploadFile, File()],
    # optional, but not nullable: a multipart field cannot be null, only absent ("" counts as absent)
    task_id: Annotated[str, Form(pattern=TASK_ID_PATTERN)] = "",
    user_id: int = Depends(current_user),
) -> JSONResponse:
    """Accept an image for analysis; idempotent on a client-supplied task_id."""
    task_id = task_id or str(uuid.uuid4())
    if not TASK_ID.fullmatch(task_id):
        raise HTTPException(422, "task_id must be 8-64 characters of letters, digits, '-' or '_'")
    data = image.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"image larger than {settings.max_upload_bytes} bytes")
    if not data.startswith(IMAGE_MAGIC):
        raise HTTPException(415, "upload is not a PNG or JPEG image")
    body = {"task_id": task_id, "user_id": user_id, "image_b64": base64.b64encode(data).decode()}
    direct = settings.is_unsafe("direct_publish")
    try:
        created = _store(task_id, user_id, data, body, outbox=not direct)
    except DatabaseUnavailable:
        if not settings.is_unsafe("queue_without_task_row"):
            raise
        log.error("task %s: database unavailable, queueing the upload anyway", task_id)
        created, direct = True, True  # planted: accepted with no task row and no outbox row
    if created and direct:
        _publish_in_request(task_id, body)
    elif created:
        handed.put(task_id, body)  # published by the relay thread: the request never waits on the broker
    return JSONResponse(status_code=202, content={"task_id": task_id, "status": "accepted"})


def _store(task_id: str, user_id: int, data: bytes, body: dict[str, Any], outbox: bool) -> bool:
    """The task row (and its outbox row) in one transaction; False if the task_id was already
    this user's (409 if another user's)."""
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO tasks (task_id, user_id, image_sha256, image_bytes) VALUES (%s,%s,%s,%s) "
            "ON CONFLICT (task_id) DO NOTHING RETURNING task_id",
            (task_id, user_id, hashlib.sha256(data).hexdigest(), len(data)),
        )
        created = cur.fetchone() is not None
        if created and outbox:
            cur.execute(
                "INSERT INTO outbox (task_id, body) VALUES (%s, %s)",
                (task_id, psycopg2.Binary(json.dumps(body).encode())),
            )
        elif not created:
            cur.execute("SELECT user_id FROM tasks WHERE task_id=%s", (task_id,))
            owner = cur.fetchone()
            if owner is None or owner["user_id"] != user_id:
                raise HTTPException(409, "task_id already used by another user")
        return created


def _publish_in_request(task_id: str, body: dict[str, Any]) -> None:
    """The design as written (planted `direct_publish`): publish before answering, no outbox. A
    broker that is down fails the upload (503); the task row it already committed stays behind."""
    try:
        publisher.publish("user_input_queue", body)
    except BrokerUnavailable as exc:
        metrics.BROKER_PUBLISH_FAILURES.inc()
        raise HTTPException(503, f"message broker unavailable: task {task_id} not queued") from exc


@app.get("/tasks/{task_id}", responses=errors(404))
def status(task_id: str, user_id: int = Depends(current_user)) -> dict[str, Any]:
    """Status and, once complete, the result of one task."""
    if not TASK_ID.fullmatch(task_id):  # no task can have such an id (and a NUL must not reach psycopg2)
        raise HTTPException(404, "unknown task_id")
    with db.transaction() as cur:
        cur.execute("SELECT user_id, created_at FROM tasks WHERE task_id=%s", (task_id,))
        task = cur.fetchone()
        if task is None or task["user_id"] != user_id:
            raise HTTPException(404, f"unknown task_id {task_id}")
        cur.execute("SELECT category, answer, rules, completed_at FROM results WHERE task_id=%s", (task_id,))
        result = cur.fetchone()
        cur.execute("SELECT task_name FROM task_stages WHERE task_id=%s", (task_id,))
        stages = sorted(r["task_name"] for r in cur.fetchall())
    if result is None:
        return {"task_id": task_id, "status": "accepted", "stages_done": stages, "result": None}
    return {
        "task_id": task_id,
        "status": "completed",
        "stages_done": stages,
        "result": {
            "category": result["category"],
            "answer": result["answer"],
            "rules": result["rules"],
            "completed_at": result["completed_at"].isoformat(),
        },
    }


def relay_once(batch: int = RELAY_BATCH) -> tuple[int, int]:
    """Publish outbox rows nobody published (broker down, process restarted); returns (published, waiting).

    Ids first, bodies only of the rows this pass publishes: a body holds a whole image, and a
    scan that read hundreds of them (most of them still in the hand-over) took seconds, during
    which the relay published nothing.
    """
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
        row = cur.fetchone()
        metrics.OUTBOX_PENDING.set(row["n"] if row else 0)
        cur.execute(
            "SELECT task_id FROM outbox WHERE published_at IS NULL "
            "AND created_at < now() - interval '1 second' ORDER BY created_at LIMIT %s",
            (RELAY_SCAN_IDS,),
        )
        ids = [r["task_id"] for r in cur.fetchall() if r["task_id"] not in marks and r["task_id"] not in handed]
        pending: list[Any] = []
        if chosen := ids[:batch]:
            cur.execute("SELECT task_id, body FROM outbox WHERE task_id = ANY(%s) ORDER BY created_at", (chosen,))
            pending = list(cur.fetchall())
    shares = [pending[i :: len(relay_publishers)] for i in range(len(relay_publishers))]
    relayed = sum(relay_pool.map(_publish_rows, relay_publishers, shares))
    metrics.OUTBOX_RELAYED.inc(relayed)
    return relayed, len(ids)


def _publish_rows(via: Publisher, rows: list[Any]) -> int:
    """Publish rows in order on one connection until the broker refuses one; how many went."""
    for n, row in enumerate(rows):
        if not _publish_outbox(row["task_id"], json.loads(bytes(row["body"])), via):
            return n
    return len(rows)


def relay_forever(stop: threading.Event) -> None:
    """Publish what requests hand over, remove published rows often, scan the outbox every half
    second. While the broker refuses, hand-overs are left to the scan (one failed attempt per
    scan, not one per upload). Nothing may end this thread but `stop`: every step is guarded."""
    broker_up = True
    next_mark = next_scan = 0.0
    while not stop.is_set():
        try:
            # a burst of hand-overs (bounded in time), then the periodic work: one hand-over per
            # scan would let a slow scan throttle every upload to its pace
            item = handed.get(MARK_PERIOD_S)
            burst_end = time.monotonic() + RELAY_PERIOD_S
            while item is not None:
                task_id, body = item
                if broker_up:
                    broker_up = _publish_outbox(task_id, body)
                handed.done(task_id)  # published, or left to the outbox scan
                item = handed.get(0) if time.monotonic() < burst_end else None
            now = time.monotonic()
            if now >= next_mark:
                next_mark = now + MARK_PERIOD_S
                marks.flush()
            if now >= next_scan:
                relayed, waiting = relay_once()
                next_scan = time.monotonic() + RELAY_PERIOD_S  # from the end of the scan
                for p in (publisher, *relay_publishers):  # idle ones would miss heartbeats and die
                    p.keepalive()
                if not broker_up:  # back once a publish went through (or, with nothing waiting, a connect does)
                    broker_up = relayed > 0 or (waiting == 0 and publisher.healthy())
        except DatabaseUnavailable as exc:
            log.warning("outbox relay: %s", exc)
        except Exception:
            log.exception("outbox relay pass failed")


if __name__ == "__main__":
    threading.Thread(target=relay_forever, args=(threading.Event(),), name="outbox-relay", daemon=True).start()
    serve(app)
