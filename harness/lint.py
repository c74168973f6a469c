"""The claims lint: before any chaos, can each claim be decided as specified?

Pure arithmetic on the claims (core/claims.py), the alert rules as rendered for one time scale
and the design's timers. Two questions per claim:

- **alert vs RTO.** A crash claimed to recover within its RTO (measured from the injection) lasts
  at most that long if the claim holds. An alert that needs longer to fire (its `for:`, plus the
  range of a rate(), plus a scrape and an evaluation interval) can then never fire for an outage
  that meets the claim: "detected" and "recovered within the RTO" cannot both hold, and a run
  cannot decide the claim as specified. RTO claims are wall-clock (Docker restarts the process in
  real time, whatever the time scale); alert windows scale with the design's timers.
- **policy vs outage.** A policy that loses work after a delay (the sync gives up after 10 tries,
  rows older than one hour become `timeout`) cannot show within an outage the claim allows: the
  claim can hold while the policy loses work in a longer outage, and only an outage longer than
  the delay (stated in real seconds) exposes it.

Verdicts: `ok`, `depends` (the alert may or may not fire in time), `undecidable`, `latent`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from core.claims import Claim
from system.monitoring.promql import metric_names

LintVerdict = Literal["ok", "depends", "undecidable", "latent"]
_RANGE = re.compile(r"\[([0-9smhdwy]+)\]")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|[smhdwy])")


def seconds(duration: str) -> float:
    """Seconds in a Prometheus duration (`1m30s`, `90s`, `500ms`)."""
    parts = _DURATION.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a duration: {duration!r}")
    return sum(float(n) * (0.001 if u == "ms" else _UNITS[u]) for n, u in parts)


@dataclass(frozen=True)
class AlertWindow:
    """One alert rule's timing, in real seconds at the scale it was rendered for."""

    alert: str
    source: str  # "design" (the document's expression) or "ours" (system/monitoring/rules)
    expr: str
    for_s: float
    range_s: float  # the longest range of a range function in the expression; 0 without one
    scrape_s: float
    eval_s: float

    @property
    def earliest_s(self) -> float:
        """The soonest it can fire after the failure: the condition true at once, then `for:`."""
        return self.for_s

    @property
    def latest_s(self) -> float:
        """The latest it fires in a failure that lasts: the next scrape sees it, the next
        evaluation starts `for:`, and a rate() may need its whole range to cross the threshold."""
        return self.scrape_s + self.eval_s + self.for_s + self.range_s


def window(alert: str, source: str, expr: str, for_: str, scrape_s: float, eval_s: float) -> AlertWindow:
    """An AlertWindow from a rule's text."""
    ranges = [seconds(r) for r in _RANGE.findall(expr)]
    return AlertWindow(alert, source, expr, seconds(for_) if for_ else 0.0, max(ranges, default=0.0), scrape_s, eval_s)


def design_window(c: Claim, scale: float, scrape_s: float, eval_s: float) -> AlertWindow | None:
    """The design's own detection expression (`<expr> for <duration>`), scaled; None without one."""
    if not c.detection:
        return None
    expr, sep, for_ = c.detection.rpartition(" for ")
    if not sep:
        expr, for_ = c.detection, ""
    w = window(c.alert, "design", expr, for_, scrape_s, eval_s)
    return replace(w, for_s=w.for_s * scale, range_s=w.range_s * scale)


@dataclass(frozen=True)
class LintRow:
    """One question about one claim, answered in seconds."""

    fid: str
    check: str  # "alert vs RTO" or the policy's name
    source: str  # "design" or "ours"
    claimed_s: float
    needed_s: tuple[float, float]  # (earliest, latest) for an alert; (delay, delay) for a policy
    verdict: LintVerdict
    text: str


def alert_row(c: Claim, w: AlertWindow) -> LintRow:
    """Can `w` fire within the claim's RTO?"""
    needed = (round(w.earliest_s, 3), round(w.latest_s, 3))
    rto = c.rto_limit_s
    verdict: LintVerdict
    if c.rto_from == "heal":
        verdict, text = "ok", f"{w.alert} fires {needed[0]:g}-{needed[1]:g} s into the outage; the RTO runs from heal"
    elif w.earliest_s > rto:
        verdict, text = (
            "undecidable",
            (
                f"{w.alert} needs at least {needed[0]:g} s, the claim allows {rto:g} s of outage: "
                "an outage that meets the RTO is never alerted on, and an alert means the RTO was missed"
            ),
        )
    elif w.latest_s > rto:
        verdict, text = (
            "depends",
            (f"{w.alert} fires {needed[0]:g}-{needed[1]:g} s in: it may miss an outage that meets the {rto:g} s RTO"),
        )
    else:
        verdict, text = "ok", f"{w.alert} fires within {needed[1]:g} s, inside the {rto:g} s RTO"
    return LintRow(c.fid, "alert vs RTO", w.source, rto, needed, verdict, text)


@dataclass(frozen=True)
class Policy:
    """A design policy that loses work once an outage outlasts `delay_s` (design seconds)."""

    name: str
    fids: tuple[str, ...]
    delay_s: float
    effect: str


def spec_sync_give_up_s(base_s: float, retries: int, period_s: float, attempts: int) -> float:
    """When the spec's sync makes its last attempt: `retries` retries at base x 2^n, then one
    every `period_s`, `attempts` in all counting the first (60, 5, 300, 10: 3060 s)."""
    at = [0.0]
    for n in range(retries):
        at.append(at[-1] + base_s * 2**n)
    if attempts <= len(at):  # equivalent mutant: < (at len(at) both branches give at[-1])
        return at[attempts - 1]
    return at[-1] + (attempts - len(at)) * period_s


def policy_rows(policies: Iterable[Policy], claims: Mapping[str, Claim], scale: float) -> list[LintRow]:
    """A policy's delay against each claim's RTO: within it the loss cannot show."""
    out: list[LintRow] = []
    for p in policies:
        delay = round(p.delay_s * scale, 3)
        for fid in p.fids:
            rto = claims[fid].rto_limit_s
            verdict: LintVerdict
            if claims[fid].rto_from == "heal":  # the outage lasts as long as the fault: any length
                verdict, text = (
                    "ok",
                    (
                        f"{p.effect} once the outage outlasts {delay:g} s; the RTO runs from heal, so "
                        f"only a fault held over {delay:g} s shows it"
                    ),
                )
            elif delay > rto:
                verdict, text = (
                    "latent",
                    (
                        f"{p.effect} only after {delay:g} s of outage; the claim allows {rto:g} s, so a "
                        f"run that honours it cannot show the loss: an outage over {delay:g} s does"
                    ),
                )
            else:
                verdict, text = "ok", f"{p.effect} after {delay:g} s, within the {rto:g} s a claimed outage may last"
            out.append(LintRow(fid, p.name, "design", rto, (delay, delay), verdict, text))
    return out


def reads_what_exists(row: LintRow, w: AlertWindow, exported: frozenset[str] | None) -> LintRow:
    """An alert none of whose metrics any target exports can never fire, whatever its window says
    (with one that exists, an `or` may still fire: left to the window)."""
    names = metric_names(w.expr)
    missing = sorted(names - exported) if exported is not None else []
    if not missing or len(missing) < len(names):
        return row
    text = f"{w.alert} reads {', '.join(missing)}, which no target exports: it can never fire"
    return replace(row, verdict="undecidable", text=text)


def lint(
    claims: Iterable[Claim],
    ours: Mapping[str, AlertWindow],
    scale: float,
    scrape_s: float,
    eval_s: float,
    policies: Iterable[Policy] = (),
    exported: frozenset[str] | None = None,
) -> list[LintRow]:
    """Every row: the design's alert expression and ours per claim, then the policies. With
    `exported` (every metric name the stack exposes), a rule reading another is undecidable."""
    cs = list(claims)
    rows: list[LintRow] = []
    for c in cs:
        design = design_window(c, scale, scrape_s, eval_s)
        if design is not None:
            rows.append(reads_what_exists(alert_row(c, design), design, exported))
        if c.alert in ours:
            rows.append(reads_what_exists(alert_row(c, ours[c.alert]), ours[c.alert], exported))
        else:
            rows.append(
                LintRow(
                    c.fid,
                    "alert vs RTO",
                    "ours",
                    c.rto_limit_s,
                    (0.0, 0.0),
                    "undecidable",
                    f"no rule named {c.alert}: the failure cannot be detected as claimed",
                )
            )
    return rows + policy_rows(policies, {c.fid: c for c in cs}, scale)
