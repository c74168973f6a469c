"""Scorecard cells: a scenario's judgements of one kind (RTO, RPO, ...) summed up as text with a verdict."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.claims import Claim
from core.verdict import Judgement, Verdict, severity, worst
from reports.runs import LoadedScenario
from reports.svg import fmt

# Judgement names: checkers write `rto:<domain>[:<ref>]`, `rpo`, `exactly_once`, `isolation`, optionally
# prefixed (`upload:rpo`); harness/alerts.py writes `detection <Alert>`, `detection_resolved ...`.
_RTO = re.compile(r"(^|:)rto(:|$)")
_RPO = re.compile(r"(^|:)rpo$")
_ONCE = re.compile(r"(^|:)exactly_once$")
_ISOLATION = re.compile(r"(^|:)isolation$")
_DETECTION = re.compile(r"detection|alert", re.IGNORECASE)


@dataclass(frozen=True)
class Cell:
    """One scorecard cell: its verdict (None: not measured), short text, and a longer explanation."""

    verdict: Verdict | None
    text: str
    detail: str = ""
    note: str = ""  # a short second line shown under the text (e.g. which RPO set is non-empty)


def classify(name: str) -> str | None:
    """The scorecard column a judgement belongs to, by its name (None: 'other checks')."""
    if _DETECTION.search(name):
        return "detection"
    for kind, pattern in (("rto", _RTO), ("rpo", _RPO), ("exactly_once", _ONCE), ("isolation", _ISOLATION)):
        if pattern.search(name):
            return kind
    return None


def number(x: object) -> float | None:
    """A measured or claimed value as a float, None when it is not a number (text, None, a bool)."""
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def is_alert_delay(name: str) -> bool:
    """A detection judgement that measures the alert's delay (not its resolution or its scope)."""
    return classify(name) == "detection" and not re.search(r"resolved|scope", name)


def measured_text(j: Judgement) -> str:
    """A judgement's measurement with its unit ('8.84 s', '3 ops', 'no data')."""
    value = number(j.measured)
    if value is None:
        return "no data" if j.measured is None else str(j.measured)
    if j.unit == "availability":
        return f"{fmt(value * 100)} %"
    return f"{fmt(value)} {j.unit}".strip()


def claimed_text(j: Judgement) -> str:
    """A judgement's claimed bound with its unit."""
    value = number(j.claimed)
    if value is None:
        return "—" if j.claimed is None else str(j.claimed)
    if j.unit == "availability":
        return f"≥ {fmt(value * 100)} %"
    return f"{fmt(value)} {j.unit}".strip()


def _detail(js: list[Judgement]) -> str:
    return "; ".join(f"{j.claim}: {measured_text(j)} (claimed {claimed_text(j)}, {j.verdict.value})" for j in js)


def detection(js: list[Judgement], claim: Claim) -> Cell:
    """Did the expected alert fire, and how long after injection."""
    if not js:
        return Cell(None, "not measured", f"expected alert {claim.alert}; no detection judgement in the record")
    primary = next((j for j in js if is_alert_delay(j.claim)), js[0])
    value = number(primary.measured)
    text = (
        f"after {fmt(value)} s"
        if value is not None
        else ("never fired" if primary.verdict is Verdict.VIOLATED else measured_text(primary))
    )
    return Cell(worst(j.verdict for j in js), text, _detail(js))


def isolation(js: list[Judgement]) -> Cell:
    """The lowest availability of a domain outside the claimed impact."""
    if not js:
        return Cell(None, "not measured")
    j = max(js, key=lambda j: (j.verdict != Verdict.HOLDS, -(number(j.measured) or 0.0)))
    text = f"min {measured_text(j)}" if number(j.measured) is not None else measured_text(j)
    return Cell(worst(x.verdict for x in js), text, _detail(js))


def rto(js: list[Judgement], claim: Claim) -> Cell:
    """The slowest capability's recovery time against the claimed RTO."""
    claimed = f"{fmt(claim.rto_limit_s)} s"
    if not js:
        return Cell(None, f"— / {claimed}", "no RTO judgement in the record")
    unrecovered = [j for j in js if number(j.measured) is None]
    if unrecovered:
        j = unrecovered[0]
        shown = (
            (j.measured if j.measured == "not exercised" else "not recovered")
            if isinstance(j.measured, str)
            else "no data"
        )
    else:
        j = max(js, key=lambda j: number(j.measured) or 0.0)
        shown = measured_text(j)
    bound = claimed_text(j) if number(j.claimed) is not None else claimed
    refs = sorted(
        {str(x.evidence["reference"]) for x in js if isinstance(x.evidence, dict) and x.evidence.get("reference")}
    )
    since = f"measured from {', '.join(refs) or claim.rto_from}" + (
        "" if claim.rto_s is not None else " (general 5 min bound)"
    )
    # a capability that never failed has no RTO: say which, or the cell reads as an instant recovery
    untouched = [x.claim for x in js if x.measured == "not exercised"]
    note = f"never failed (not exercised): {', '.join(untouched)}" if untouched else ""
    return Cell(worst(x.verdict for x in js), f"{shown} / {bound}", f"{since}. {_detail(js)}", note)


def counted(js: list[Judgement], breakdown: Callable[[Judgement], str] | None) -> Cell:
    """Operation counts summed over the op kinds judged (upload, chat ...): measured / claimed."""
    if not js:
        return Cell(None, "not measured")
    values = [number(j.measured) for j in js]
    shown = "no data" if any(v is None for v in values) else fmt(sum(v for v in values if v is not None))
    claimed = sum(number(j.claimed) or 0.0 for j in js)
    note = "; ".join(b for b in (breakdown(j) for j in js) if b) if breakdown else ""
    return Cell(worst(j.verdict for j in js), f"{shown} / {fmt(claimed)} ops", _detail(js), note)


def rpo_breakdown(j: Judgement) -> str:
    """The non-zero failure sets of an rpo judgement ('upload: unexpected 15'); for a clean upload
    audit, its resolution ('upload: 395 audited, a 0.8% loss would show')."""
    evidence = j.evidence if isinstance(j.evidence, dict) else {}
    counts = evidence.get("counts", {})
    keys = ("lost", "stuck_acknowledged", "dead_lettered_acknowledged", "unexpected")
    parts = [
        f"{k.replace('_acknowledged', '')} {counts[k]}" for k in keys if isinstance(counts.get(k), int) and counts[k]
    ]
    parts += [f"no {record} {m['count']}" for record, m in (evidence.get("missing") or {}).items()]
    kind = j.claim.removesuffix(":rpo")
    if parts:
        return f"{kind}: {', '.join(parts)}"
    resolution = evidence.get("resolution") or {}
    if kind == "upload" and resolution.get("audited"):
        return f"upload: {resolution['audited']} audited, a {resolution['detectable_loss_rate']:.1%} loss would show"
    return ""


def other(js: list[Judgement], scenario: LoadedScenario) -> Cell:
    """Judgements without a column of their own, plus what else decided the verdict: errors, missing effect."""
    rec = scenario.record
    assert rec is not None
    findings: list[tuple[Verdict, str, str]] = []  # (verdict, short text, explanation), worst first below
    if rec.errors:
        findings.append((Verdict.HARNESS_ERROR, f"harness error: {rec.errors[0][:50]}", "; ".join(rec.errors)))
    unseen = [e.check for e in rec.effect if not e.ok]
    if unseen or not rec.effect:
        findings.append(
            (
                Verdict.INCONCLUSIVE,
                "fault effect not seen",
                f"effect checks not seen: {', '.join(unseen)}" if unseen else "no effect evidence",
            )
        )
    findings += [
        (j.verdict, f"{j.claim} {measured_text(j)}", _detail([j])) for j in js if j.verdict is not Verdict.HOLDS
    ]
    if not findings:
        return (
            Cell(Verdict.HOLDS, ", ".join(f"{j.claim} {measured_text(j)}" for j in js[:2]), _detail(js))
            if js
            else Cell(None, "—")
        )
    findings.sort(key=lambda f: -severity(f[0]))
    note = "; ".join(text for _, text, _ in findings[1:])[:80]
    return Cell(findings[0][0], findings[0][1], "; ".join(d for _, _, d in findings), note)
