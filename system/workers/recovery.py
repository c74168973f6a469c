"""WAL recovery on startup (spec F4/F7 `WALRecovery.recover_on_startup`), without its loss holes.

Safe by default: rows marked `republished` stay unfinished and are republished again on the
next start; nothing is timed out. The spec's as-written policies are planted defects:
`republish_once` (republished rows are never selected again) and `timeout_drop` (rows older
than one hour become `timeout` and are dropped).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from system import metrics
from system.settings import TASK_TIMEOUT_S, Settings
from system.workers.wal import WAL

log = logging.getLogger(__name__)

RECOVERED_NOTE = "Recovered from RabbitMQ outage"
TIMEOUT_NOTE = "Task timeout during worker restart"


@dataclass(frozen=True)
class RecoveryReport:
    """What one recovery pass did."""

    checkpoint: tuple[int, int, int]
    republished: int
    timed_out: int


def retakes_republished(settings: Settings) -> bool:
    """Whether recovery selects rows marked `republished` again (not under the design's republish_once)."""
    return not settings.is_unsafe("republish_once")


def recover_on_startup(
    wal: WAL,
    settings: Settings,
    queue_of: dict[str, str],
    publish: Callable[[str, dict[str, Any]], None],
    now: float | None = None,
) -> RecoveryReport:
    """Checkpoint, then republish every unfinished task to its stage's input queue."""
    now = time.time() if now is None else now
    checkpoint = wal.checkpoint()
    rows = wal.unfinished(include_republished=retakes_republished(settings))
    republished = timed_out = 0
    horizon = now - settings.scaled(TASK_TIMEOUT_S)
    for row in rows:
        if row.task_name not in queue_of:
            continue
        if settings.is_unsafe("timeout_drop") and row.created_at < horizon:
            # as written, a timed-out task is abandoned: its retry entry goes with it
            wal.set_status(row.task_id, row.task_name, "timeout", TIMEOUT_NOTE)
            wal.drop_retry(row.task_id, row.task_name)
            metrics.WAL_RECOVERED.labels("timeout").inc()
            timed_out += 1
            continue
        publish(queue_of[row.task_name], row.payload)  # confirmed, or raises: the row stays unfinished
        wal.set_status(row.task_id, row.task_name, "republished", RECOVERED_NOTE)
        metrics.WAL_RECOVERED.labels("republished").inc()
        republished += 1
    log.info("WAL recovery: checkpoint=%s republished=%d timed_out=%d", checkpoint, republished, timed_out)
    return RecoveryReport(checkpoint, republished, timed_out)
