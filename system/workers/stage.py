"""A pipeline stage and the one idempotent way every stage runs a task.

The order is the durability argument: the WAL row is committed before any side effect is
trusted, the output is committed before the next message is published, and the caller acks
only after that publish is confirmed. A redelivered task whose row is already completed
skips the work and republishes the stored output, so it never yields a second result.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from system import metrics
from system.settings import Settings
from system.workers.wal import WAL

log = logging.getLogger(__name__)


# A dependency that is down is tried again at most every 16 minutes (design time): often enough to
# come back soon after it does, rarely enough not to hammer it.
RETRY_MAX_EXPONENT = 4


class ExternalFailure(Exception):
    """A dependency (GPT, S3) failed; the task goes to retry_queue with backoff."""


class PoisonMessage(Exception):
    """The message can never be processed; it is dead-lettered, not retried."""


@dataclass(frozen=True)
class Stage:
    """One consumer of the pipeline."""

    name: str
    input_queue: str
    output_queue: str | None  # None: the final stage, whose output is the result
    work: Callable[[dict[str, Any]], dict[str, Any]]
    bulky: tuple[str, ...] = ()  # input fields the WAL drops once the stage is done (its output has them)


def parse_task(msg: dict[str, Any]) -> str:
    """The task id of a message, or PoisonMessage."""
    task_id = msg.get("task_id")
    if not isinstance(task_id, str) or not task_id or len(task_id) > 128:
        raise PoisonMessage(f"message without a valid task_id: {str(msg)[:200]}")
    return task_id


class _Claims:
    """One lock per (task, stage) in hand: after a restart the broker's redelivery of a task and
    recovery's republished copy can reach two consumers at once; the second waits for the first
    and then recalls its output instead of doing the work a second time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: tuple[str, str]) -> Iterator[None]:
        with self._lock:
            lock, users = self._held.get(key, (threading.Lock(), 0))
            self._held[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._held[key]
                if users == 1:
                    del self._held[key]
                else:
                    self._held[key] = (lock, users - 1)


_claims = _Claims()


def run_task(stage: Stage, wal: WAL, msg: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Do (or recall) the stage's work for one task and return its output, durably in the WAL.

    Each run of the work is an attempt with its own id, carried in the output (and into the
    result), so a result recalled and sent again is told apart from work done twice."""
    task_id = parse_task(msg)
    idempotent = not settings.is_unsafe("no_idempotency")
    with _claims.hold((task_id, stage.name)) if idempotent else contextlib.nullcontext():
        row = wal.get(task_id, stage.name)
        recalled = row.output if row is not None and row.status == "completed" else None
        if recalled is not None and idempotent:
            return recalled
        wal.begin(task_id, stage.name, msg)
        metrics.WAL_TASKS.labels("started", stage.name).inc()
        started = time.monotonic()
        output = stage.work(msg)
        output.setdefault("task_id", task_id)
        output["attempt"] = uuid.uuid4().hex
        kept = {k: v for k, v in msg.items() if k not in stage.bulky} if stage.bulky else None
        wal.complete(task_id, stage.name, output, payload=kept)
    metrics.WAL_TASKS.labels("completed", stage.name).inc()
    metrics.STAGE_SECONDS.labels(stage.name).observe(time.monotonic() - started)
    return output


def retry_backoff(settings: Settings) -> tuple[float, int]:
    """(base seconds, max exponent): spec 60 s x 2^n, capped at 2^4 (16 min) instead of giving up."""
    from system.settings import GPT_RETRY_BASE_S

    return settings.scaled(GPT_RETRY_BASE_S), RETRY_MAX_EXPONENT
