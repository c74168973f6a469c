"""A worker process: WAL, startup recovery, consumers per stage, sync, retries, metrics."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from system import metrics
from system import settings as settings_mod
from system.broker import Publisher
from system.db import Database
from system.logs import quiet_per_request_loggers
from system.settings import RECOVERY_POLL_S, Settings
from system.workers.rebuild import Rebuilder
from system.workers.recovery import recover_on_startup, retakes_republished
from system.workers.retry import Retrier
from system.workers.stage import Stage, StageConsumer, wait_for_broker
from system.workers.sync import Syncer, attempt_limit
from system.workers.wal import WAL

log = logging.getLogger(__name__)

StageFactory = Callable[[Settings, WAL], list[Stage]]
DRAIN_S = 8.0  # within Docker's default 10 s stop grace period


class Worker:
    """Everything one worker container runs."""

    def __init__(self, name: str, build_stages: StageFactory, settings: Settings, final_stage: str | None) -> None:
        self.name = name
        self.settings = settings
        self.wal = WAL(settings.wal_path, count_commits=not settings.is_unsafe("wal_unchecked"))
        stages = build_stages(settings, self.wal)
        self.stages = {s.name: s for s in stages}
        self.publisher = Publisher(settings)
        self.completed = threading.Event()
        self.stop_event = threading.Event()
        self.consumers = [
            StageConsumer(s, self.wal, settings, self.completed, self._report_stage, i)
            for s in stages
            for i in range(settings.stage_consumers)
        ]
        for stage in stages:  # the series exist (at 0) from the first scrape, before recovery
            metrics.CONSUMER_UP.labels(stage.name).set(0)
        waste_db = Database(settings.pg_dsn["waste"], "ecoeco_waste", max_connections=2)
        self.syncer = Syncer(self.wal, waste_db, settings, name, final_stage, self.completed)
        self.retrier = Retrier(self.stages, self.wal, settings, self.publisher, self.completed)
        # F9: what a damaged -wal dropped before this start is rebuilt from ecoeco_waste
        self.rebuilder = (
            Rebuilder(self.wal, waste_db, settings, name, list(self.stages), self.wal.lost) if self.wal.lost else None
        )
        self.recovered = False

    def _stage_up(self, stage: str) -> bool:
        """A stage counts as up only while every one of its consumers is connected."""
        return all(c.connected for c in self.consumers if c.stage.name == stage)

    def _report_stage(self, stage: str) -> None:
        """consumer_up{stage}, called by a consumer whenever it connects or disconnects."""
        metrics.CONSUMER_UP.labels(stage).set(1 if self._stage_up(stage) else 0)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy when recovery ran and every consumer of every stage is connected."""
        consumers = {name: self._stage_up(name) for name in self.stages}
        ok = self.recovered and all(consumers.values())
        return ok, {
            "worker": self.name,
            "recovered": self.recovered,
            "consumers": consumers,
            "wal_pending": self.pending(),
            "wal_unsynced": self.unsynced(),
        }

    # Work still in hand. Rows the design's own policies abandon are never retried by the worker
    # itself (republish_once: recovery skips them; a consumer takes one up again only if its message
    # comes back; sync_gives_up: the sync skips them): counted, the system would never be idle again.
    def pending(self) -> int:
        """WAL rows not yet done that recovery will still take up."""
        return self.wal.pending_count(include_republished=retakes_republished(self.settings))

    def unsynced(self) -> int:
        """Completed WAL rows not yet in PostgreSQL that the sync will still try."""
        return self.wal.unsynced_count(attempt_limit(self.settings))

    def refresh_gauges(self) -> None:
        """Recompute the WAL gauges (called on every scrape)."""
        metrics.WAL_PENDING.set(self.pending())
        metrics.WAL_FILE_SIZE.set(self.wal.wal_file_size())
        metrics.WAL_RETRY_QUEUE.set(self.wal.retry_count())
        metrics.WAL_UNSYNCED.set(self.unsynced())
        metrics.WAL_DISK_FREE.set(self.wal.disk_free_bytes())

    def run(self) -> None:
        """Recover, then serve until SIGTERM."""
        serve_http(self, 9090)
        wait_for_broker(self.settings, self.stop_event, self.settings.scaled(RECOVERY_POLL_S))
        queue_of = {s.name: s.input_queue for s in self.stages.values()}
        while not self.stop_event.is_set():
            try:
                recover_on_startup(self.wal, self.settings, queue_of, self.publisher.publish)
                break
            except Exception as exc:  # broker gone again mid-recovery: poll and retry
                log.warning("recovery interrupted: %r", exc)
                self.stop_event.wait(self.settings.scaled(RECOVERY_POLL_S))
        self.recovered = True
        for thread in (*self.consumers, self.syncer, self.retrier, *([self.rebuilder] if self.rebuilder else [])):
            thread.start()
        self.stop_event.wait()
        self.drain()

    def drain(self, timeout_s: float = DRAIN_S) -> None:
        """A graceful stop (SIGTERM): consumers finish the delivery in hand, flush their acks and
        close (the broker requeues what they had prefetched); then the retry and sync threads end
        after their current pass. Daemon threads would otherwise die mid-task with the process."""
        threads: tuple[StageConsumer | Retrier | Syncer | Rebuilder, ...] = (
            *self.consumers,
            self.retrier,
            self.syncer,
            *([self.rebuilder] if self.rebuilder else []),
        )
        for t in threads:
            t.stop()
        deadline = time.monotonic() + timeout_s
        for t in threads:
            if t.is_alive():
                t.join(max(0.0, deadline - time.monotonic()))
        log.info("stopped: %d threads still busy after %.0f s", sum(t.is_alive() for t in threads), timeout_s)


def serve_http(worker: Worker, port: int) -> ThreadingHTTPServer:
    """/metrics and /health on the metrics port, in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/health"):
                ok, detail = worker.health()
                body, ctype, code = json.dumps(detail).encode(), "application/json", 200 if ok else 503
            elif self.path.startswith("/metrics"):
                worker.refresh_gauges()
                body, ctype, code = generate_latest(), CONTENT_TYPE_LATEST, 200
            else:
                body, ctype, code = b'{"error": "not found"}', "application/json", 404
            try:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client (a probe that timed out) went away; nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server


def main(name: str, build_stages: StageFactory, final_stage: str | None) -> None:
    """Entry point shared by both workers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(levelname)s %(message)s")
    quiet_per_request_loggers()
    settings = settings_mod.get()
    worker = Worker(name, build_stages, settings, final_stage)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop_event.set())
    worker.run()
