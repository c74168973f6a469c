"""A fault as plain data: its kind in the registry (faults/kinds.py) and its parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
