"""The design review: what an as-written run (`--as-written`) found, claim by claim, beside the
hardened build's verdict on the same failure points, with the evidence and the change that fixes it.

Its rows are the design's own claims: each row of its table (section 5: RTO, RPO, impact, and the
alert where the document gives one), then its general claims over every failure point that ran
(RTO < 5 min, RPO = 0, other domains keep serving, each failure detected), and section 6's
duplicate-work weak spot. A reader needs only the design document to follow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.claims import GENERAL_RTO_S, Claim, all_claims, claim
from core.record import unjudged_verdict
from core.verdict import Judgement, Verdict, worst
from reports import cells
from reports.html_parts import esc, vclass
from reports.runs import LoadedRun, LoadedScenario
from reports.scorecard import LABELS, Row, row
from reports.svg import fmt
from system import as_written

SAMPLE_IDS = 3  # lost task ids shown per scenario


@dataclass(frozen=True)
class Side:
    """One build's verdict on one claim; verdict None: not run."""

    verdict: Verdict | None
    text: str

    @property
    def label(self) -> str:
        return "NOT RUN" if self.verdict is None else LABELS[self.verdict]


@dataclass(frozen=True)
class ReviewRow:
    """One claim of the design, judged as written and hardened."""

    claim: str
    source: str  # "table" (section 5) or "general"
    as_written: Side
    hardened: Side
    fix: str

    def to_dict(self) -> dict[str, Any]:
        def side(s: Side) -> dict[str, Any]:
            return {"verdict": s.verdict.value if s.verdict else None, "evidence": s.text}

        return {
            "claim": self.claim,
            "source": self.source,
            "as_written": side(self.as_written),
            "hardened": side(self.hardened),
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Review:
    """The review's rows and the hardened runs they were set beside."""

    rows: list[ReviewRow]
    hardened_ids: list[str]  # the hardened runs the other column comes from (newest per scenario)

    def to_dict(self) -> dict[str, Any]:
        """report.json's `design_review`."""
        return {"hardened_runs": self.hardened_ids, "tally": tally(self.rows), "rows": [r.to_dict() for r in self.rows]}


def _rows(scenarios: Iterable[LoadedScenario]) -> dict[str, tuple[str, Row]]:
    """scenario id -> (its failure point, its scorecard row) for every scenario with a record."""
    out: dict[str, tuple[str, Row]] = {}
    for s in scenarios:
        if s.record is not None and not s.is_control:
            fid = s.point_fid or s.fid
            out[s.fid] = (fid, row(claim(fid), s, None))
    return out


def _cell(r: Row, kind: str) -> cells.Cell:
    return {"rto": r.rto, "rpo": r.rpo, "isolation": r.isolated, "detection": r.detected}.get(kind, r.exactly_once)


def _lost_ids(r: Row) -> str:
    """A few acknowledged task ids the RPO audit found lost (the evidence a reader can look up)."""
    rec = r.scenario.record if r.scenario else None
    ids: list[str] = []
    for j in rec.judgements if rec else ():
        if cells.classify(j.claim) == "rpo" and isinstance(j.evidence, dict):
            ids += (j.evidence.get("samples") or {}).get("lost", [])
    return f" e.g. {', '.join(ids[:SAMPLE_IDS])}" if ids else ""


def _side(found: Iterable[tuple[str, Row]], judge: Callable[[Row], tuple[Verdict | None, str]]) -> Side:
    """One build's verdict on one claim over the scenarios that bear on it."""
    parts: list[tuple[Verdict, str]] = []
    for sid, r in found:
        verdict, text = judge(r)
        if verdict is not None:
            parts.append((verdict, f"{sid}: {text}"))
    if not parts:
        return Side(None, "not run")
    verdict = worst(v for v, _ in parts)
    # a holding claim says it briefly; a broken one shows where it broke first
    shown = [t for v, t in parts if v is not Verdict.HOLDS] or [t for _, t in parts]
    return Side(verdict, "; ".join(shown))


def _unjudged(r: Row) -> tuple[Verdict | None, str]:
    """A point that ran but has no judgement of this kind: inconclusive or an error if it could not
    judge (never "not run", never a pass), else it does not bear on the claim."""
    rest = unjudged_verdict(r.scenario.record) if r.scenario and r.scenario.record else None
    if rest is None or rest is Verdict.HOLDS:
        return None, ""
    return rest, f"not judged: {r.reason}"


def _judge_cell(kind: str) -> Callable[[Row], tuple[Verdict | None, str]]:
    def judge(r: Row) -> tuple[Verdict | None, str]:
        c = _cell(r, kind)
        if c.verdict is None:
            return _unjudged(r)
        text = c.text + (f" ({c.note})" if c.note else "")
        if kind == "rpo" and c.verdict is Verdict.VIOLATED:
            text += _lost_ids(r)
        if kind == "detection" and c.verdict is Verdict.VIOLATED and r.claim.alert not in as_written.design_alerts():
            text += ": the design gives no alert rule for it"
        return c.verdict, text

    return judge


def _general_rto(r: Row) -> tuple[Verdict | None, str]:
    """RTO against the general 5 minutes, whatever the point's own claim."""
    rec = r.scenario.record if r.scenario else None
    js: list[Judgement] = [
        j for j in (rec.judgements if rec else ()) if cells.classify(j.claim) == "rto" and "relapse" not in j.claim
    ]
    if not js:
        return _unjudged(r)
    verdicts, texts = [], []
    for j in js:
        value = cells.number(j.measured)
        if value is not None:
            verdicts.append(Verdict.HOLDS if value <= GENERAL_RTO_S else Verdict.VIOLATED)
        else:
            verdicts.append(j.verdict)
        texts.append(f"{j.claim.removeprefix('rto:')} {cells.measured_text(j)}")
    return worst(verdicts), ", ".join(texts)


def _fix(kind: str, fids: set[str], written: Side, hardened: Side) -> str:
    if written.verdict is not Verdict.VIOLATED:
        return "—"
    keys = {f"{fid}:{kind}" for fid in fids}
    found = "; ".join(f"{p.option} → {p.fix}" for p in as_written.POLICIES if keys & set(p.bites))
    if kind == "detection":  # our rules, and what a policy adds for the rule to see (F9's commit count)
        text = "; ".join(t for t in (as_written.ALERT_FIX, found) if t)
    else:
        text = found or "no policy of the design explains it"
    if hardened.verdict is Verdict.VIOLATED:
        text += " (the hardened build is violated too: not fixed yet)"
    return text


def _broken_fids(found: dict[str, tuple[str, Row]], kind: str) -> set[str]:
    return {fid for fid, r in found.values() if _cell(r, kind).verdict is Verdict.VIOLATED} or {
        fid for fid, _ in found.values()
    }


def _table_rows(c: Claim, mine: dict[str, tuple[str, Row]], theirs: dict[str, tuple[str, Row]]) -> list[ReviewRow]:
    rto = f"RTO {fmt(c.rto_s)} s" if c.rto_s is not None else "RTO: until the API recovers (5 min at most)"
    detected = f"detected by {c.detection}" if c.detection else f"detected ({c.alert}: the design has no rule)"
    asks = {
        "rto": rto,
        "rpo": "RPO = 0",
        "isolation": f"impact {', '.join(sorted(c.impact))} only",
        "detection": detected,
    }
    here = {sid: v for sid, v in mine.items() if v[0] == c.fid}
    there = {sid: v for sid, v in theirs.items() if v[0] == c.fid}
    out = []
    for kind, text in asks.items():
        written = _side(((sid, r) for sid, (_, r) in here.items()), _judge_cell(kind))
        hardened = _side(((sid, r) for sid, (_, r) in there.items()), _judge_cell(kind))
        fix = _fix(kind, _broken_fids(here, kind), written, hardened)
        out.append(ReviewRow(f"{c.fid} {c.title}: {text}", "table", written, hardened, fix))
    return out


_GENERAL = (
    ("rto", "RTO < 5 minutes for every failure type"),
    ("rpo", "RPO = 0 for every failure type"),
    ("isolation", "a failure in one domain leaves the other domains serving"),
    ("detection", "each failure is detected by a Prometheus alert"),
    ("exactly_once", "no task is processed twice (section 6: unless consumers are idempotent)"),
)


def review(run: LoadedRun, hardened: Mapping[str, LoadedRun]) -> list[ReviewRow]:
    """The review of an as-written run; `hardened` maps a scenario id to the hardened run whose
    record of it is set beside (none: the column says no hardened run)."""
    mine = _rows(run.scenarios)
    theirs = _rows(s for sid, other in hardened.items() if (s := other.scenario(sid)) is not None)
    out: list[ReviewRow] = []
    for c in all_claims():
        if c.source == "spec" and any(fid == c.fid for fid, _ in mine.values()):
            out += _table_rows(c, mine, theirs)
    for kind, text in _GENERAL:
        judge = _general_rto if kind == "rto" else _judge_cell(kind)
        written = _side(((sid, r) for sid, (_, r) in mine.items()), judge)
        other = _side(((sid, r) for sid, (_, r) in theirs.items()), judge)
        if not theirs:
            other = Side(None, "no hardened run in runs/")
        out.append(ReviewRow(text, "general", written, other, _fix(kind, _broken_fids(mine, kind), written, other)))
    return out


def tally(rows: list[ReviewRow]) -> str:
    """'as written 4 of 36 claims hold, 30 violated; hardened 33 hold'."""

    def count(pick: Callable[[ReviewRow], Side]) -> str:
        judged = [pick(r).verdict for r in rows if pick(r).verdict is not None]
        parts = [f"{sum(1 for v in judged if v is verdict)} {LABELS[verdict].lower()}" for verdict in Verdict]
        shown = ", ".join(p for p in parts if not p.startswith("0 "))
        return f"{len(judged)} judged: {shown}" if judged else "not run"

    return f"as written {count(lambda r: r.as_written)}; hardened {count(lambda r: r.hardened)}"


def policies_md() -> list[str]:
    lines = ["| policy (ECOECO_UNSAFE) | what the document says | what the hardened build does |", "|---|---|---|"]
    lines += [f"| `{p.option}` | {p.written} | {p.fix} |" for p in as_written.POLICIES]
    return lines


def markdown(run: LoadedRun, found: Review) -> str:
    """design-review.md: readable on its own by someone who has only the design document."""
    rows = found.rows
    beside = (
        f"hardened run{'s' if len(found.hardened_ids) > 1 else ''} {', '.join(f'`{i}`' for i in found.hardened_ids)}"
        if found.hardened_ids
        else "no hardened run in runs/"
    )
    lines = [
        f"# Design review: the Ecoeco design as written (run `{run.run_id}`)",
        "",
        "Each claim of the design document, judged on the system built exactly as the document says "
        f"(its own recovery policies and alert rules, time scale {fmt(run.time_scale or 0)}), beside the "
        f"hardened build ({beside}). Evidence comes from this run's records (scenarios/*.json).",
        "",
        f"**{tally(rows)}**",
        "",
        "| claim | as written | hardened | evidence (as written) | what fixes it |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        evidence, fix = r.as_written.text.replace("|", "\\|"), r.fix.replace("|", "\\|")
        lines.append(f"| {r.claim} | {r.as_written.label} | {r.hardened.label} | {evidence} | {fix} |")
    lines += ["", "## The design's policies as built here (system/as_written.py)", "", *policies_md(), ""]
    return "\n".join(lines)


def html(found: Review) -> str:
    """The review's section of report.html."""
    rows = found.rows

    def td(s: Side) -> str:
        return f'<td class="{vclass(s.verdict)}" title="{esc(s.text)}">{esc(s.label)}</td>'

    body = "".join(
        f"<tr><td>{esc(r.claim)}</td>{td(r.as_written)}{td(r.hardened)}"
        f"<td>{esc(r.as_written.text)}</td><td>{esc(r.fix)}</td></tr>"
        for r in rows
    )
    policies = "".join(
        f"<tr><td><code>{esc(p.option)}</code></td><td>{esc(p.written)}</td><td>{esc(p.fix)}</td></tr>"
        for p in as_written.POLICIES
    )
    ids = ", ".join(f"<code>{esc(i)}</code>" for i in found.hardened_ids)
    beside = f"hardened build (newest run of each point: {ids})" if ids else "hardened build (no run in runs/)"
    return (
        "<section><h2>Design review: the design as written</h2>"
        f"<p>Each claim judged on the system built as the document says, beside the {beside}. "
        f"<b>{esc(tally(rows))}</b>.</p>"
        "<table><tr><th>claim</th><th>as written</th><th>hardened</th><th>evidence (as written)</th>"
        f"<th>what fixes it</th></tr>{body}</table>"
        "<h3>The design's policies as built</h3><table><tr><th>policy</th><th>what the document says</th>"
        f"<th>what the hardened build does</th></tr>{policies}</table></section>"
    )
