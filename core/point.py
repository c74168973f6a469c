"""One record per failure point: what is claimed, how it is broken, what must be seen.

Scenarios, planted-defect controls and reports all read these records (scenarios/catalogue.py
holds the table). A record is data: the claim comes from the design's table (core/claims.py),
the fault is a registry name with parameters (FaultSpec, below; faults/kinds.py makes it), and
what the run must show (work in flight where the fault strikes, the system's own symptom of the
fault, its recovery path at work) is named, never coded in the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.claims import Claim, claim
from core.counters import CounterSpec


@dataclass(frozen=True)
class FaultSpec:
    """A fault by kind and parameters (`parts` of an `all_of` are FaultSpecs too)."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    parts: tuple[FaultSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for records."""
        out: dict[str, Any] = {"kind": self.kind, **self.params}
        if self.parts:
            out["parts"] = [p.to_dict() for p in self.parts]
        return out


def all_of(*parts: FaultSpec) -> FaultSpec:
    """Several faults injected together (healed in reverse)."""
    return FaultSpec("all_of", parts=tuple(parts))


# What a scenario judges; a mode may leave some to its main mode (scenario._judge reads these).
CHECKERS = ("rpo", "rto", "isolation", "detection", "healthy_after", "in_flight")


def point_id(fid: str, mode: str = "") -> str:
    """ "F7", or "F11-kill" for a harsher mode: a scenario's name in records and reports."""
    return f"{fid}-{mode}" if mode else fid


@dataclass(frozen=True)
class FailurePoint:
    """One way of producing one of the design's failure points, and what its run must show."""

    fid: str  # "F1".."F17": the design's failure point (its claim)
    fault: FaultSpec
    hold_s: float  # how long the fault acts before heal
    watch: tuple[str, ...]  # capabilities that go down and whose recovery (RTO) is measured
    mode: str = ""  # "" for the main mode, else a harsher one ("kill", "freeze", ...)
    # places (observe.in_flight keys: queue:<q>, wal:<worker>, outbox) that must hold work at the
    # injection; empty: any work in flight anywhere
    strikes: tuple[str, ...] = ()
    symptoms: tuple[CounterSpec, ...] = ()  # the system's own counters that show the fault bit
    exercises: tuple[CounterSpec, ...] = ()  # the recovery paths the claim relies on, by their counters
    self_repair: bool = False  # the claim relies on the platform restarting the service by itself
    known_false: Mapping[str, str] = field(default_factory=dict)  # judgement -> why the design's claim fails
    defects: Mapping[str, str] = field(default_factory=dict)  # planted defect -> judgement that must catch it
    audits: tuple[str, ...] = ()  # extra audits by name (scenario.EXTRA_AUDITS)
    checkers: tuple[str, ...] = CHECKERS  # a harsher mode may leave RTO and detection to the main mode
    notes: str = ""

    @property
    def id(self) -> str:
        """This point's scenario name (point_id)."""
        return point_id(self.fid, self.mode)

    @property
    def claim(self) -> Claim:
        """The design's claim for this failure point."""
        return claim(self.fid)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the scenario record (what was planned; the fault's describe() is what ran)."""
        return {
            "fid": self.fid,
            "mode": self.mode,
            "fault": self.fault.to_dict(),
            "hold_s": self.hold_s,
            "watch": list(self.watch),
            "strikes": list(self.strikes),
            "symptoms": [c.key for c in self.symptoms],
            "exercises": [c.key for c in self.exercises],
            "self_repair": self.self_repair,
            "known_false": dict(self.known_false),
            "defects": dict(self.defects),
            "audits": list(self.audits),
            "checkers": list(self.checkers),
            "notes": self.notes,
        }
