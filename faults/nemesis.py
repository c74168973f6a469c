"""The nemesis: records injected faults and heals them last-in-first-out, whatever happens.

`heal_leftovers` (faults/leftovers.py) repairs what an interrupted earlier run left behind.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import Any

from core.evidence import EffectCheck
from faults.base import Fault
from faults.leftovers import heal_leftovers  # re-exported: callers find every run-level helper here

log = logging.getLogger(__name__)


@dataclass
class Record:
    """One fault's life in this run, for the journal."""

    fault: Fault
    params: dict[str, Any]
    injected_at: float
    inject_error: str | None = None
    evidence: list[EffectCheck] = field(default_factory=list)
    healed_at: float | None = None
    heal_error: str | None = None


class Nemesis:
    """Injects faults and heals all of them LIFO on exit, on exceptions and on Ctrl-C."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._active: list[Record] = []
        self._lock = threading.RLock()  # re-entrant: a SIGINT handler may heal while heal_all runs

    @property
    def active(self) -> list[Fault]:
        """Faults injected and not yet healed, oldest first."""
        return [r.fault for r in self._active]

    def inject(self, fault: Fault) -> Record:
        """Record the fault first (so a partial inject is healed too), then inject it."""
        record = Record(fault, fault.describe(), time.time())
        with self._lock:
            self.records.append(record)
            self._active.append(record)
        try:
            fault.inject()
        except BaseException as exc:
            record.inject_error = f"{type(exc).__name__}: {exc}"
            raise
        return record

    def evidence(self, fault: Fault) -> list[EffectCheck]:
        """Ask a fault for evidence and keep it in its record."""
        found = fault.evidence()
        for record in self.records:
            if record.fault is fault:
                record.evidence = found
        return found

    def heal(self, fault: Fault) -> None:
        """Heal one fault now and forget it; a heal error is recorded and raised (it stays active)."""
        with self._lock:
            record = next((r for r in self._active if r.fault is fault), None)
            if record is not None:
                self._heal_record(record)

    def _heal_record(self, record: Record) -> None:
        try:
            record.fault.heal()
        except Exception as exc:
            record.heal_error = f"{type(exc).__name__}: {exc}"
            log.error("healing %r failed: %s", record.fault, record.heal_error)
            raise
        record.healed_at, record.heal_error = time.time(), None
        # forgotten only after heal returned: a re-entrant heal_all heals it again (heal is idempotent)
        if record in self._active:
            self._active.remove(record)

    def heal_all(self) -> list[Record]:
        """Heal every active fault, newest first, past failures; failed ones stay active for a retry."""
        failed: list[Record] = []
        with self._lock:
            for record in list(reversed(self._active)):
                try:
                    self._heal_record(record)
                except Exception:
                    failed.append(record)
        return failed

    def __enter__(self) -> Nemesis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.heal_all()

    @contextlib.contextmanager
    def sigint_heals(self) -> Iterator[None]:
        """Within this block Ctrl-C (and SIGTERM) heal everything first, then raise KeyboardInterrupt."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.heal_all()
            raise KeyboardInterrupt(f"signal {signum}: faults healed")

        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def journal(self) -> list[dict[str, Any]]:
        """Plain data of every record, for the run's journal."""
        return [
            {
                "name": r.fault.name,
                "params": r.params,
                "injected_at": r.injected_at,
                "inject_error": r.inject_error,
                "evidence": [asdict(e) for e in r.evidence],
                "healed_at": r.healed_at,
                "heal_error": r.heal_error,
            }
            for r in self.records
        ]


__all__ = ["Nemesis", "Record", "heal_leftovers"]
