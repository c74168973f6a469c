"""Repetition of a failure point (`--repeat N`) and what N runs can say.

A failure point runs up to N times and stops at its first violation: one proven violation is the
answer, more runs would only cost time. The point's record is the first of its worst runs (so the
gate and the report judge the worst the point did), carrying a summary of every run. A claim that
held in all n runs is reported with the rule of three: P(violation per run) < 3/n at 95 %
confidence (the exact bound is 1 - 0.05^(1/n), about 3/n).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from core.record import Repeat, ScenarioRecord
from core.verdict import Verdict, severity, worst

SUFFIX = ".r"  # scenarios/F7.r2.json: the second run of F7


def repeat_name(point_id: str, n: int) -> str:
    """The record name of run `n` (1-based) of a repeated point."""
    return f"{point_id}{SUFFIX}{n}"


def run_repeated(point_id: str, times: int, run_one: Callable[[str], ScenarioRecord]) -> ScenarioRecord:
    """Run `run_one(name)` up to `times` times, stopping after the first VIOLATED one.

    `times` of 1 is one ordinary run under the point's own name."""
    if times < 1:
        raise ValueError(f"repeat count must be at least 1, got {times}")
    if times == 1:
        return run_one(point_id)
    records: list[ScenarioRecord] = []
    for n in range(1, times + 1):
        records.append(run_one(repeat_name(point_id, n)))
        if records[-1].verdict is Verdict.VIOLATED:
            break
    return combine(point_id, records)


def combine(point_id: str, records: list[ScenarioRecord]) -> ScenarioRecord:
    """The point's record: the first of the worst runs, under the point's id, with every run summarised."""
    if not records:
        raise ValueError("no run to combine")
    overall = worst(r.verdict for r in records)
    first_worst = next(r for r in records if severity(r.verdict) == severity(overall))
    repeats = [
        Repeat(
            n=n,
            verdict=r.verdict,
            judgements={j.claim: j.verdict for j in r.judgements},
            path=f"scenarios/{r.fid}.json",
        )
        for n, r in enumerate(records, start=1)
    ]
    # the point's time is every run's: where the run's time went counts all of them
    phases: dict[str, float] = {}
    for r in records:
        for name, secs in (r.parameters.get("phases_s") or {}).items():
            if isinstance(secs, int | float):
                phases[name] = round(phases.get(name, 0.0) + float(secs), 2)
    parameters = {**first_worst.parameters, "phases_s": phases} if phases else first_worst.parameters
    return replace(first_worst, fid=point_id, repeats=repeats, parameters=parameters)


@dataclass(frozen=True)
class ClaimConfidence:
    """How one claim fared over the runs of a repeated point."""

    claim: str
    held: int
    runs: int  # runs that judged this claim
    verdicts: tuple[tuple[int, Verdict], ...]  # (run number, verdict)

    @property
    def upper_bound(self) -> float | None:
        """The 95 % upper bound on P(violation per run) when every run held; None otherwise."""
        if self.runs == 0 or self.held < self.runs:
            return None
        return float(1 - 0.05 ** (1 / self.runs))

    @property
    def text(self) -> str:
        """E.g. "held in 10 of 10; P(violation) < 3/10 at 95 %" or "held in 2 of 3 (violated in run 3)"."""
        head = f"held in {self.held} of {self.runs}"
        if self.upper_bound is not None:
            return f"{head}; P(violation) < 3/{self.runs} at 95 % (exact bound {self.upper_bound:.2f})"
        bad = [f"{v.value} in run {n}" for n, v in self.verdicts if v is not Verdict.HOLDS]
        return f"{head} ({', '.join(bad)})"


def confidence(repeats: list[Repeat]) -> list[ClaimConfidence]:
    """Per claim, in the order first judged: how many of the runs that judged it found it held."""
    claims: dict[str, list[tuple[int, Verdict]]] = {}
    for r in repeats:
        for claim, verdict in r.judgements.items():
            claims.setdefault(claim, []).append((r.n, verdict))
    return [
        ClaimConfidence(claim, sum(v is Verdict.HOLDS for _, v in vs), len(vs), tuple(vs))
        for claim, vs in claims.items()
    ]
