"""RTO, downtime and availability from probe samples of one capability (a domain).

A sample is one probe: at time `t` the capability `domain` answered correctly (`ok`) or not.
Canary probes (a pipeline task submitted at `t`, completed within its deadline or not) use
the same type, keyed by submit time. Samples are a step function: each one's state holds
until the next sample of the same domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.verdict import Judgement, Verdict

# Recovered means 3 successes in a row, not one lucky answer from a half-started service.
RECOVERY_STREAK = 3


@dataclass(frozen=True)
class Sample:
    """One probe result (`t` in unix seconds; `latency_s` None when it never answered)."""

    t: float
    domain: str
    ok: bool
    latency_s: float | None = None


@dataclass(frozen=True)
class Recovery:
    """When a capability went down and came back, measured from a reference instant."""

    domain: str
    reference: str  # what the reference instant is: "injection" or "heal"
    since: float
    until: float
    samples: int
    failed_at: float | None  # first failure seen (or `since` if already failing then)
    recovered_at: float | None  # first success of the first run of RECOVERY_STREAK after failed_at
    took_effect: bool  # False: the capability never failed after `since`

    @property
    def rto_s(self) -> float | None:
        """Seconds from the reference instant to recovery; 0 if it never failed; None if never back."""
        if not self.took_effect:
            return 0.0
        return None if self.recovered_at is None else self.recovered_at - self.since


def _series(samples: Iterable[Sample], domain: str) -> list[Sample]:
    return sorted((s for s in samples if s.domain == domain), key=lambda s: s.t)


def measure_recovery(
    samples: Iterable[Sample], domain: str, since: float, until: float, reference: str = "injection"
) -> Recovery:
    """Find the outage after `since` and the first run of RECOVERY_STREAK successes ending it."""
    series = _series(samples, domain)
    before = [s for s in series if s.t <= since]
    window = [s for s in series if since < s.t <= until]
    # Anchor on the first failure, not on `since`: probes that still succeed in the instant
    # before a crash registers must not count as "recovered at once".
    failed_at: float | None = since if before and not before[-1].ok else None
    if failed_at is None:
        failed_at = next((s.t for s in window if not s.ok), None)
    recovered_at: float | None = None
    if failed_at is not None:
        run: list[float] = []
        for s in (s for s in window if s.t >= failed_at):
            run = [*run, s.t] if s.ok else []
            if len(run) == RECOVERY_STREAK:
                recovered_at = run[0]
                break
    return Recovery(
        domain, reference, since, until, len(window), failed_at, recovered_at, took_effect=failed_at is not None
    )


def judge_rto(recovery: Recovery, claimed_s: float, *, claim: str | None = None) -> Judgement:
    """HOLDS iff recovered within `claimed_s`; never back in a window >= the claim is VIOLATED."""
    name = claim or f"rto:{recovery.domain}:{recovery.reference}"
    window_s = recovery.until - recovery.since
    evidence: dict[str, Any] = {
        "reference": recovery.reference,
        "since": recovery.since,
        "failed_at": recovery.failed_at,
        "recovered_at": recovery.recovered_at,
        "samples": recovery.samples,
        "window_s": window_s,
        "streak": RECOVERY_STREAK,
    }
    if recovery.samples == 0:
        evidence["reason"] = "no probe samples in the observation window"
        return Judgement(name, Verdict.INCONCLUSIVE, None, claimed_s, "s", evidence)
    if not recovery.took_effect:
        evidence["note"] = "the fault did not take effect on this capability (it never failed)"
    rto = recovery.rto_s
    if rto is None:
        measured = f"not recovered within {window_s:.1f} s"
        # Watching for less than the claimed RTO cannot prove the claim false.
        verdict = Verdict.VIOLATED if window_s >= claimed_s else Verdict.INCONCLUSIVE
        return Judgement(name, verdict, measured, claimed_s, "s", evidence)
    verdict = Verdict.HOLDS if rto <= claimed_s else Verdict.VIOLATED
    return Judgement(name, verdict, round(rto, 3), claimed_s, "s", evidence)


def downtime_s(samples: Iterable[Sample], domain: str, start: float, end: float) -> float:
    """Seconds within [start, end] the capability was failing (each sample holds until the next)."""
    series = _series(samples, domain)
    total = 0.0
    for current, following in zip(series, [*series[1:], None], strict=True):
        seg_end = end if following is None else following.t
        lo, hi = max(current.t, start), min(seg_end, end)
        if not current.ok and hi > lo:
            total += hi - lo
    return total


def availability(samples: Iterable[Sample], domain: str, start: float, end: float) -> float | None:
    """Share of probes in [start, end] that succeeded; None when there were no probes."""
    window = [s for s in samples if s.domain == domain and start <= s.t <= end]
    return sum(s.ok for s in window) / len(window) if window else None


def canary_samples(
    submitted: Mapping[str, float], completed: Mapping[str, float], deadline_s: float, domain: str = "pipeline"
) -> list[Sample]:
    """Canary outcomes as samples at submit time: ok iff completed within `deadline_s`."""
    out: list[Sample] = []
    for task_id, t in submitted.items():
        done = completed.get(task_id)
        ok = done is not None and done - t <= deadline_s
        out.append(Sample(t, domain, ok, done - t if done is not None else None))
    return sorted(out, key=lambda s: s.t)
