"""What is planted on the stack between controls: each control recreates only the services its
defect needs, and restores only those the last one planted that this one does not recreate anyway.

Restoring every control's services right after it, then recreating the same services for the
next control, cost ~12 s per control (17 controls: ~3.5 min of CI). Services are marked dirty
before they are recreated, so a plant that fails halfway is restored too; a defect that changed
the queues' type is always undone in full (the queues deleted and declared again). The module
that plants restores the safe build at its end, whatever happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from scenarios.defects import SAFE_ENV, Defect


class Recreates(Protocol):
    def restart_with(self, services: list[str], env: dict[str, str], reset_queues: bool = False) -> None: ...


class Planter:
    """The defect on the stack now, and the services that may not run the safe build."""

    def __init__(self, stack: Recreates, safe_env: Mapping[str, str] = SAFE_ENV) -> None:
        self._stack = stack
        self._safe = dict(safe_env)
        self._dirty: set[str] = set()
        self._queues_changed = False

    def plant(self, defect: Defect) -> None:
        """Recreate the defect's services with it (every other setting safe), after restoring what
        an earlier plant left that this one does not recreate."""
        if self._queues_changed:
            self.restore()
        leftover = sorted(self._dirty - set(defect.services))
        if leftover:
            self._stack.restart_with(leftover, self._safe)
            self._dirty -= set(leftover)
        self._dirty |= set(defect.services)
        self._queues_changed = self._queues_changed or defect.reset_queues
        self._stack.restart_with(list(defect.services), {**self._safe, **defect.env}, reset_queues=defect.reset_queues)

    def restore(self) -> None:
        """Every service an earlier plant touched back on the safe build."""
        if self._dirty:
            self._stack.restart_with(sorted(self._dirty), self._safe, reset_queues=self._queues_changed)
        self._dirty.clear()
        self._queues_changed = False
