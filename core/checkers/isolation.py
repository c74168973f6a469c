"""Blast radius: during a fault, every domain the claim does not allow to suffer keeps serving.

The spec's general claim: "a failure in one domain leaves the other domains serving".
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Any

from core.checkers.rto import Sample, availability
from core.verdict import Judgement, Verdict

# 0.95, not 1.0: on a shared 2-core host a crash or restart next door steals CPU, so a few
# probes of a healthy neighbour may time out. A neighbour really taken down by the fault
# scores near 0, far below this line. Override per scenario if a stricter bound is claimed.
DEFAULT_MIN_AVAILABILITY = 0.95

# Below 5 probes one unlucky timeout moves availability by 20 points or more: too few to judge.
MIN_SAMPLES = 5
# One failed probe alone never violates: at the pipeline's two canaries a second a 10 s window
# holds ~20, so a single canary delayed past its deadline by a restart's CPU next door would put
# availability under the line (seen: F2, 15 of 16). A neighbour really affected fails many.
MIN_FAILURES = 2


def check_isolation(
    samples: Iterable[Sample],
    start: float,
    end: float,
    allowed: Set[str],
    *,
    domains: Iterable[str] | None = None,
    min_availability: float = DEFAULT_MIN_AVAILABILITY,
    min_samples: int = MIN_SAMPLES,
    min_failures: int = MIN_FAILURES,
    claim: str = "isolation",
) -> Judgement:
    """Availability of each non-allowed domain within [start, end] must be >= min_availability
    (a domain below it with fewer than `min_failures` failed probes is not violated).

    `domains` are the domains that should have been probed (default: all seen in `samples`);
    a listed domain with fewer than `min_samples` probes makes the verdict INCONCLUSIVE, unless
    another domain is proven VIOLATED.
    """
    sample_list = list(samples)
    expected = set(domains) if domains is not None else {s.domain for s in sample_list}
    watched = sorted(expected - set(allowed))
    per_domain: dict[str, dict[str, Any]] = {}
    violated: list[str] = []
    too_few: list[str] = []
    for domain in watched:
        window = [s for s in sample_list if s.domain == domain and start <= s.t <= end]
        n, failed = len(window), sum(1 for s in window if not s.ok)
        avail = availability(sample_list, domain, start, end)
        per_domain[domain] = {"availability": avail, "samples": n}
        if n < min_samples:
            too_few.append(domain)
        elif avail is not None and avail < min_availability and failed >= min_failures:
            violated.append(domain)
    evidence: dict[str, Any] = {
        "window": [start, end],
        "allowed": sorted(allowed),
        "domains": per_domain,
        "violated": violated,
        "too_few_samples": too_few,
        "min_samples": min_samples,
        "min_failures": min_failures,
    }
    judged = [per_domain[d]["availability"] for d in watched if d not in too_few]
    measured = round(min(judged), 4) if judged else None
    if violated:
        verdict = Verdict.VIOLATED
    elif too_few or not watched:
        verdict = Verdict.INCONCLUSIVE
        if not watched:
            evidence["reason"] = "no domain outside the allowed impact was probed"
    else:
        verdict = Verdict.HOLDS
    return Judgement(claim, verdict, measured, min_availability, "availability", evidence)
