"""Locust entry point: the Ecoeco user classes plus ledger, timeline and readiness hooks."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

# Locust puts the cwd and load/ on sys.path; this makes `load.*` importable from any cwd.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from load import config
from load.timeline import SecondCounter, append_rows
from load.users import (  # noqa: F401  (Locust collects the user classes from this namespace)
    AuthUser,
    ChatUser,
    LocationUser,
    RecycleUser,
    UserinfoUser,
    WasteUser,
    close_ledger,
    ledger,
)

TIMELINE_FLUSH_S = 1.0
_counter = SecondCounter()
_timeline_path = os.environ.get(config.TIMELINE_ENV)


def _flush_timeline(until_s: int | None) -> None:
    """Write finished seconds (all seconds if until_s is None) to the timeline file."""
    if _timeline_path:
        append_rows(_timeline_path, _counter.drain(until_s))


def _flush_loop() -> None:
    """Every second, write the seconds that can no longer change."""
    while True:
        gevent.sleep(TIMELINE_FLUSH_S)
        _flush_timeline(int(time.time()))


def _on_init(environment: Environment, **_: Any) -> None:
    """Start the timeline flusher (not on a master) and open the ledger."""
    # The master sees no request events in distributed mode; workers count their own.
    if _timeline_path and not isinstance(environment.runner, MasterRunner):
        gevent.spawn(_flush_loop)
    if ledger() is None:  # opened now so a bad path fails at start, not mid-run
        logging.getLogger("ecoeco.load").warning("%s is not set: writes are not recorded", config.LEDGER_ENV)


def _on_request(name: str, exception: BaseException | None = None, **_: Any) -> None:
    """Count every finished request in its second."""
    _counter.add(name, failed=exception is not None)


def _on_test_start(environment: Environment, **_: Any) -> None:
    """Tell the driver the load has started."""
    ready_file = os.environ.get(config.READY_FILE_ENV)
    # Only the node that owns the run (local or master) says the load has started.
    if ready_file and not isinstance(environment.runner, WorkerRunner):
        Path(ready_file).write_text(f"{time.time()}\n", encoding="utf-8")


def _on_quit(**_: Any) -> None:
    """Write the last seconds and close the ledger."""
    _flush_timeline(None)
    close_ledger()


def _listen(hook: Any, handler: Callable[..., None]) -> None:
    """Register a listener (Locust's add_listener is untyped)."""
    hook.add_listener(handler)


_listen(events.init, _on_init)
_listen(events.request, _on_request)
_listen(events.test_start, _on_test_start)
# `quit` fires after the runner stopped its users; `quitting` fires before that on SIGTERM.
_listen(events.quit, _on_quit)
