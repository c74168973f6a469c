"""The fault interface every mechanism implements: inject, heal, evidence, describe."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from core.evidence import EffectCheck
from faults.wait import WaitTimeout, until

T = TypeVar("T")

# Tag of everything a fault leaves behind (iptables comments, RabbitMQ policies, ballast files),
# so heal_leftovers can find it after a crashed run.
TAG = "ecoeco-fault"


class FaultError(RuntimeError):
    """A fault could not be injected (or a target could not be resolved safely)."""


class Fault(ABC):
    """A fault: inject it, prove it took effect, heal it (idempotently)."""

    name: str = "fault"

    @abstractmethod
    def inject(self) -> None:
        """Make the fault happen; FaultError with a clear message when it could not."""

    @abstractmethod
    def heal(self) -> None:
        """Undo the fault; idempotent, and safe after a failed or partial inject."""

    @abstractmethod
    def evidence(self) -> list[EffectCheck]:
        """Observations showing whether the fault took effect (read-only)."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """The fault's parameters, for the run record."""

    def released_at(self) -> float | None:
        """When the fault stopped acting by itself and the system's own repair began (the last
        SIGKILL of a crash or crash loop); None: the fault lasts until heal."""
        return None

    def started_by_hand(self) -> list[str]:
        """Containers the heal had to start itself because nothing else did (self-repair failed)."""
        return []

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"{type(self).__name__}({params})"


def took_effect(evidence: list[EffectCheck]) -> bool:
    """True when there is evidence and every check of it is ok."""
    return bool(evidence) and all(e.ok for e in evidence)


def wait_for(condition: Callable[[], T], *, timeout_s: float, what: str, interval_s: float = 0.1) -> T:
    """Poll `condition` until truthy; FaultError naming `what` when the deadline passes."""
    try:
        return until(condition, timeout_s=timeout_s, what=what, interval_s=interval_s)
    except WaitTimeout as exc:
        raise FaultError(str(exc)) from exc
