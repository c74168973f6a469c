"""S3 outage: stop or freeze the moto S3 stand-in."""

from __future__ import annotations

from typing import Any

from core.evidence import EffectCheck
from faults.base import Fault
from faults.pause import Pause
from faults.stop import Stop
from faults.target import Project


class S3Outage(Fault):
    """Take the `s3` service away: `stop` (connections refused) or `pause` (requests hang)."""

    name = "s3_outage"

    def __init__(self, stack: Project, how: str = "stop", service: str = "s3") -> None:
        if how not in ("stop", "pause"):
            raise ValueError(f"how must be 'stop' or 'pause', not {how!r}")
        self.how, self.service = how, service
        self._inner: Fault = Stop(stack, service) if how == "stop" else Pause(stack, service)

    def inject(self) -> None:
        """Stop or pause the S3 container."""
        self._inner.inject()

    def heal(self) -> None:
        """Start or unpause it again."""
        self._inner.heal()

    def evidence(self) -> list[EffectCheck]:
        """The container is not running (stop) or paused (pause)."""
        return self._inner.evidence()

    def describe(self) -> dict[str, Any]:
        """Service and how."""
        return {"fault": self.name, "service": self.service, "how": self.how}
