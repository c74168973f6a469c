"""The gate a pipeline uses: new findings fail it, accepted ones (accepted-findings.toml) do not, and
an accepted finding that held is flagged so the file is corrected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.findings import Finding
from core.verdict import Verdict, exit_code
from reports.runs import LoadedRun


@dataclass(frozen=True)
class GateReport:
    """The run's gate verdict and its findings, each as (scenario id, judgement)."""

    verdict: Verdict
    new: tuple[tuple[str, str], ...]
    accepted: tuple[tuple[str, str, Finding], ...]
    stale: tuple[tuple[str, str, Finding], ...]
    review: bool = False  # an as-written run: exit 0 once every claim was judged

    @property
    def exit_code(self) -> int:
        """0 holds or accepted, 1 new violation or stale acceptance, 2 inconclusive, 3 harness error."""
        return exit_code(self.verdict)

    def headline(self) -> str:
        """One line: the exit code and what decided it."""
        if self.review:
            judged = "every claim judged" if self.verdict is Verdict.HOLDS else "not every claim could be judged"
            return (
                f"design review (exit {self.exit_code}): {judged}; the design as written is reviewed, not gated: "
                "its violations are the findings of design-review.md"
            )
        parts = [f"{len(self.new)} new finding{'s' if len(self.new) != 1 else ''}", f"{len(self.accepted)} accepted"]
        if self.stale:
            parts.append(f"{len(self.stale)} accepted but held (correct accepted-findings.toml)")
        return f"gate: {self.verdict.value.upper().replace('_', ' ')} (exit {self.exit_code}): {', '.join(parts)}"

    def to_dict(self) -> dict[str, Any]:
        """report.json's `gate`."""

        def finding(fid: str, claim: str, f: Finding) -> dict[str, str]:
            return {"failure_point": fid, "judgement": claim, "reason": f.reason, "shown_by": f.shown_by, "fix": f.fix}

        return {
            "verdict": self.verdict.value,
            "exit_code": self.exit_code,
            "new": [{"failure_point": fid, "judgement": c} for fid, c in self.new],
            "accepted": [finding(*a) for a in self.accepted],
            "stale": [finding(*s) for s in self.stale],
        }


def gate(run: LoadedRun) -> GateReport:
    """Sort every scenario's violated judgements into new and accepted (controls are not findings)."""
    new: list[tuple[str, str]] = []
    accepted: list[tuple[str, str, Finding]] = []
    stale: list[tuple[str, str, Finding]] = []
    if run.as_written:  # accepted findings are the hardened build's; the design is reviewed
        return GateReport(run.gate_verdict, (), (), (), review=True)
    for s in run.scenarios:
        if s.is_control:
            continue
        g = run.gated(s)
        new += [(s.fid, c) for c in g.new]
        accepted += [(s.fid, c, run.accepted[(s.fid, c)]) for c in g.accepted]
        stale += [(s.fid, c, run.accepted[(s.fid, c)]) for c in g.stale]
    return GateReport(run.gate_verdict, tuple(new), tuple(accepted), tuple(stale))
