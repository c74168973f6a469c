"""The evidence a fault took effect, and that the system showed it: one type from fault to record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EffectCheck:
    """One piece of evidence that a fault took effect (e.g. "waste-api container not running"): what
    a fault reports (faults/), what the scenario adds (steady state, the system's symptoms), and what
    the record keeps (core/record.py)."""

    check: str
    ok: bool
    detail: str = ""
