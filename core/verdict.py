"""Verdicts and judgements: what a checker concludes about one claim.

Four verdicts, never mixed up: only HOLDS is a pass. INCONCLUSIVE (not enough data to
decide) and HARNESS_ERROR (the harness itself broke) are failures to prove the claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Measured = float | int | str | None
Evidence = str | dict[str, Any]


class Verdict(StrEnum):
    """Outcome of judging one claim (Jepsen's true / false / unknown, plus harness errors)."""

    HOLDS = "holds"
    VIOLATED = "violated"
    INCONCLUSIVE = "inconclusive"
    HARNESS_ERROR = "harness_error"


# Worst first wins when combining: a proven violation is never hidden, not even by a harness
# error elsewhere (both are shown, and CI must see the violation); a broken harness outranks
# "could not tell"; and "could not tell" is never a pass.
# Order (best -> worst): holds < inconclusive < harness_error < violated.
_SEVERITY: dict[Verdict, int] = {
    Verdict.HOLDS: 0,
    Verdict.INCONCLUSIVE: 1,
    Verdict.HARNESS_ERROR: 2,
    Verdict.VIOLATED: 3,
}

# Process exit codes: 0 only for a pass; distinct codes so CI can tell the cases apart.
EXIT_CODES: dict[Verdict, int] = {
    Verdict.HOLDS: 0,
    Verdict.VIOLATED: 1,
    Verdict.INCONCLUSIVE: 2,
    Verdict.HARNESS_ERROR: 3,
}


def severity(verdict: Verdict) -> int:
    """Rank of a verdict: higher is worse (holds 0 < inconclusive 1 < harness_error 2 < violated 3)."""
    return _SEVERITY[verdict]


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of several verdicts; nothing judged at all is INCONCLUSIVE, never HOLDS."""
    return max(verdicts, key=severity, default=Verdict.INCONCLUSIVE)


def exit_code(verdict: Verdict) -> int:
    """Process exit code for an overall verdict (0 holds, 1 violated, 2 inconclusive, 3 error)."""
    return EXIT_CODES[verdict]


@dataclass(frozen=True)
class Judgement:
    """One claim judged: what was claimed, what was measured, and the evidence."""

    claim: str
    verdict: Verdict
    measured: Measured
    claimed: Measured
    unit: str
    evidence: Evidence = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True only for HOLDS; an inconclusive judgement is not a pass."""
        return self.verdict is Verdict.HOLDS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (verdict as its string value)."""
        return {
            "claim": self.claim,
            "verdict": self.verdict.value,
            "measured": self.measured,
            "claimed": self.claimed,
            "unit": self.unit,
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Judgement:
        """Inverse of to_dict; raises ValueError on an unknown verdict or a missing key."""
        try:
            return cls(
                claim=str(data["claim"]),
                verdict=Verdict(data["verdict"]),
                measured=data["measured"],
                claimed=data["claimed"],
                unit=str(data["unit"]),
                evidence=data.get("evidence", {}),
            )
        except KeyError as exc:
            raise ValueError(f"judgement is missing field {exc.args[0]!r}") from exc


def combine(judgements: Iterable[Judgement]) -> Verdict:
    """Overall verdict of several judgements: the worst one (empty -> INCONCLUSIVE)."""
    return worst(j.verdict for j in judgements)
