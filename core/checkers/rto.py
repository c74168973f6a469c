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

from core.verdict import Judgement, Verdict

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
    """When a capability went down after the injection and came back, timed from a reference instant."""

    domain: str
    reference: str  # what the reference instant is, e.g. "last SIGKILL" or "heal"
    since: float  # the reference instant (unix s); RTO is measured from it
    until: float
    samples: int
    failed_at: float | None  # first failure at or after the injection (None: it never failed)
    recovered_at: float | None  # first success of the first run of RECOVERY_STREAK at or after `since`
    took_effect: bool  # False: the capability never failed after the injection
    injected: float | None = None  # the injection (unix s); None: the same as `since`
    relapses: tuple[float, ...] = ()  # starts of earlier streaks that fell again within `stable_s`

    @property
    def rto_s(self) -> float | None:
        """Seconds from the reference instant to recovery (0 if it was back before it); None if it
        never failed (nothing was recovered) or never came back."""
        if not self.took_effect or self.recovered_at is None:
            return None
        return max(0.0, self.recovered_at - self.since)


def _series(samples: Iterable[Sample], domain: str) -> list[Sample]:
    return sorted((s for s in samples if s.domain == domain), key=lambda s: s.t)


def measure_recovery(
    samples: Iterable[Sample],
    domain: str,
    since: float,
    until: float,
    reference: str = "injection",
    injected: float | None = None,
    stable_s: float = 0.0,
) -> Recovery:
    """Find the outage after the injection and the first run of RECOVERY_STREAK successes, at or
    after the reference instant `since`, that ends it for good: with `stable_s`, a run followed by
    RECOVERY_STREAK failures in a row within `stable_s` was no recovery (it is kept as a relapse),
    and one whose `stable_s` has not passed by `until` is not confirmed yet.

    `injected` defaults to `since`. A capability that never fails after the injection was not
    exercised: it has no RTO (took_effect False)."""
    start = since if injected is None else min(injected, since)
    series = _series(samples, domain)
    before = [s for s in series if s.t <= start]
    window = [s for s in series if start < s.t <= until]
    # Anchor on the first failure, not on the injection: probes that still succeed in the
    # instant before a crash registers must not count as "recovered at once".
    failed_at: float | None = start if before and not before[-1].ok else None
    if failed_at is None:
        failed_at = next((s.t for s in window if not s.ok), None)
    recovered_at: float | None = None
    relapses: list[float] = []
    if failed_at is not None:
        after = [s for s in window if s.t >= max(failed_at, since)]
        run: list[float] = []
        for i, s in enumerate(after):
            run = [*run, s.t] if s.ok else []
            if len(run) < RECOVERY_STREAK:
                continue
            # equivalent mutants: after[i - 1:] (adds successes, which reset a failure run); calling
            # _falls_again without stable_s (it finds no relapse unless probes share a timestamp)
            fell = _falls_again(after[i + 1 :], run[0] + stable_s) if stable_s else None
            if fell is None:
                if stable_s and run[0] + stable_s > until:
                    break  # back, but not for long enough yet to call it recovered
                recovered_at = run[0]
                break
            relapses.append(run[0])
            run = []
    return Recovery(
        domain,
        reference,
        since,
        until,
        len([s for s in window if s.t > since]),
        failed_at,
        recovered_at,
        took_effect=failed_at is not None,
        injected=start,
        relapses=tuple(relapses),
    )


def _falls_again(later: list[Sample], until: float) -> float | None:
    """When RECOVERY_STREAK failures in a row begin before `until`, else None."""
    bad: list[float] = []
    for s in later:
        if s.t > until and not bad:
            return None
        bad = [*bad, s.t] if not s.ok else []
        if len(bad) == RECOVERY_STREAK:
            return bad[0]  # a run can only begin at or before `until` (returned None above otherwise)
    return None


def judge_rto(recovery: Recovery, claimed_s: float, *, claim: str | None = None) -> Judgement:
    """HOLDS iff recovered within `claimed_s` of the reference instant; never back in a window at
    least as long as the claim is VIOLATED; a capability that never failed is INCONCLUSIVE (not
    exercised: no recovery was measured)."""
    name = claim or f"rto:{recovery.domain}"
    window_s = recovery.until - recovery.since
    evidence: dict[str, Any] = {
        "reference": recovery.reference,
        "since": recovery.since,
        "injected": recovery.injected,
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
        evidence["reason"] = "not exercised: the capability never failed after the injection"
        return Judgement(name, Verdict.INCONCLUSIVE, "not exercised", claimed_s, "s", evidence)
    rto = recovery.rto_s
    if rto is None:
        measured = f"not recovered within {window_s:.1f} s"
        # Watching for less than the claimed RTO cannot prove the claim false.
        verdict = Verdict.VIOLATED if window_s >= claimed_s else Verdict.INCONCLUSIVE
        return Judgement(name, verdict, measured, claimed_s, "s", evidence)
    verdict = Verdict.HOLDS if rto <= claimed_s else Verdict.VIOLATED
    return Judgement(name, verdict, round(rto, 3), claimed_s, "s", evidence)


def judge_relapse(recovery: Recovery, *, claim: str | None = None, max_relapses: int = 1) -> Judgement:
    """A capability that came back and fell again more than `max_relapses` times before it stayed up
    is flapping (VIOLATED). One premature run is allowed: three lucky probes during a backlog's
    drain are not a second outage. Nothing recovered: INCONCLUSIVE."""
    name = claim or f"relapse:{recovery.domain}"
    evidence: dict[str, Any] = {
        "relapses": len(recovery.relapses),
        "came_back_at": list(recovery.relapses),
        "recovered_at": recovery.recovered_at,
        "allowed": max_relapses,
    }
    if recovery.recovered_at is None:
        evidence["reason"] = "never recovered (or never failed): no relapse to judge"
        return Judgement(name, Verdict.INCONCLUSIVE, len(recovery.relapses), max_relapses, "relapses", evidence)
    verdict = Verdict.VIOLATED if len(recovery.relapses) > max_relapses else Verdict.HOLDS
    return Judgement(name, verdict, len(recovery.relapses), max_relapses, "relapses", evidence)


def downtime_s(samples: Iterable[Sample], domain: str, start: float, end: float) -> float:
    """Seconds within [start, end] the capability was failing (each sample holds until the next)."""
    series = _series(samples, domain)
    total = 0.0
    # equivalent mutant: strict=False or no strict (the two lists always have one length)
    for current, following in zip(series, [*series[1:], None], strict=True):
        seg_end = end if following is None else following.t
        lo, hi = max(current.t, start), min(seg_end, end)
        if not current.ok and hi > lo:  # equivalent mutant: >= (an empty segment adds 0)
            total += hi - lo
    return total


def availability(samples: Iterable[Sample], domain: str, start: float, end: float) -> float | None:
    """Share of probes in [start, end] that succeeded; None when there were no probes."""
    window = [s for s in samples if s.domain == domain and start <= s.t <= end]
    return sum(s.ok for s in window) / len(window) if window else None


def canary_samples(
    submitted: Mapping[str, float],
    completed: Mapping[str, float],
    deadline_s: float,
    domain: str = "pipeline",
    now: float | None = None,
) -> list[Sample]:
    """Canary outcomes as samples at submit time: ok iff completed within `deadline_s`. With `now`,
    a canary not completed yet whose deadline has not passed is undecided and left out."""
    out: list[Sample] = []
    for task_id, t in submitted.items():
        done = completed.get(task_id)
        if done is None and now is not None and now - t < deadline_s:
            continue
        ok = done is not None and done - t <= deadline_s
        out.append(Sample(t, domain, ok, done - t if done is not None else None))
    return sorted(out, key=lambda s: s.t)
