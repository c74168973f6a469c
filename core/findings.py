"""Accepted findings: the known-false judgements a pipeline has agreed to live with, and the gate
that fails only on what is not among them (accepted-findings.toml at the repository root).

The file is the one place these facts live: the catalogue reads its `known_false` from here, pytest
marks such a scenario xfail, and the report shows each violation as new or accepted."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.record import ScenarioRecord, overall_verdict
from core.verdict import Judgement, Verdict, worst

ACCEPTED_PATH = Path(__file__).resolve().parents[1] / "accepted-findings.toml"
_FIELDS = ("failure_point", "judgement", "reason", "shown_by", "fix")
_OPTIONAL = ("verdict",)
# What a finding may accept: a violation, or an inconclusive judgement that follows from one (the
# resolution of an alert that never fired). Never HOLDS (that is a stale entry) or a harness error.
ACCEPTABLE = frozenset({Verdict.VIOLATED, Verdict.INCONCLUSIVE})


class FindingsError(ValueError):
    """The accepted-findings file cannot be read as written."""


@dataclass(frozen=True)
class Finding:
    """One accepted known-false judgement of one scenario."""

    failure_point: str
    judgement: str
    reason: str
    shown_by: str
    fix: str
    verdict: Verdict = Verdict.VIOLATED  # the verdict the run shows and the pipeline accepts


@dataclass(frozen=True)
class Gated:
    """One scenario as the gate sees it: the verdict it counts as, and its findings sorted."""

    verdict: Verdict
    new: tuple[str, ...] = ()  # violated judgements not accepted
    accepted: tuple[str, ...] = ()  # violated and accepted
    stale: tuple[str, ...] = ()  # accepted but held: the file must be corrected


def parse(text: str, source: str = "accepted findings") -> dict[tuple[str, str], Finding]:
    """(failure point, judgement) -> Finding; every field is required, no pair twice."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FindingsError(f"{source}: not TOML: {exc}") from exc
    out: dict[tuple[str, str], Finding] = {}
    for n, entry in enumerate(data.get("finding", []), start=1):
        missing = [f for f in _FIELDS if not isinstance(entry.get(f), str) or not entry[f].strip()]
        unknown = sorted(set(entry) - set(_FIELDS) - set(_OPTIONAL))
        if missing or unknown:
            raise FindingsError(f"{source}: finding {n}: missing {missing}, unknown {unknown}")
        verdict = entry.get("verdict", Verdict.VIOLATED.value)
        if verdict not in {v.value for v in ACCEPTABLE}:
            raise FindingsError(
                f"{source}: finding {n}: verdict {verdict!r} cannot be accepted "
                f"(one of {sorted(v.value for v in ACCEPTABLE)})"
            )
        finding = Finding(**{f: entry[f] for f in _FIELDS}, verdict=Verdict(verdict))
        key = (finding.failure_point, finding.judgement)
        if key in out:
            raise FindingsError(f"{source}: finding {n}: {key[0]} {key[1]} is listed twice")
        out[key] = finding
    return out


def load(path: Path | None = None) -> dict[tuple[str, str], Finding]:
    """The accepted findings ($ECOECO_ACCEPTED_FINDINGS, else the repository's file; none if absent)."""
    p = path or Path(os.environ.get("ECOECO_ACCEPTED_FINDINGS") or ACCEPTED_PATH)
    if not p.is_file():
        return {}
    # equivalent mutants: no encoding or "UTF-8" (the same under a UTF-8 locale, as here)
    return parse(p.read_text(encoding="utf-8"), str(p))


def known_false(point_id: str, accepted: Mapping[tuple[str, str], Finding]) -> dict[str, str]:
    """judgement -> reason for one scenario, as the failure-point record carries it."""
    return {j: f.reason for (fid, j), f in accepted.items() if fid == point_id}


def gate(
    point_id: str,
    verdict: Verdict,
    judgements: Iterable[Judgement],
    rest: Verdict | None,
    accepted: Mapping[tuple[str, str], Finding],
) -> Gated:
    """What one scenario counts as for the gate (pytest's outcome and the exit code both use it).

    `rest` is the scenario's verdict without its accepted judgements (errors and fault evidence
    included); None when the record could not be read, and then the recorded verdict stands.
    An accepted judgement counts as accepted only with the verdict its finding names; one that
    held is stale and counts as VIOLATED (the file claims a defect the run did not show, and a
    pipeline must not keep trusting it); any other verdict counts as itself."""
    js = list(judgements)
    ours = {j: f for (fid, j), f in accepted.items() if fid == point_id}
    new = tuple(
        j.claim
        for j in js
        if j.verdict is Verdict.VIOLATED and (j.claim not in ours or ours[j.claim].verdict is not Verdict.VIOLATED)
    )
    hit = tuple(j.claim for j in js if j.claim in ours and j.verdict is ours[j.claim].verdict)
    stale = tuple(j.claim for j in js if j.verdict is Verdict.HOLDS and j.claim in ours)
    if rest is None or not ours:
        return Gated(verdict, new, hit, stale)
    other = [j.verdict for j in js if j.claim in ours and j.verdict not in (Verdict.HOLDS, ours[j.claim].verdict)]
    counted = worst([rest, *other, *([Verdict.VIOLATED] if stale else [])])
    return Gated(counted, new, hit, stale)


def gate_record(rec: ScenarioRecord, accepted: Mapping[tuple[str, str], Finding]) -> Gated:
    """`gate` for a readable record: the rest is its verdict without the accepted judgements."""
    ours = {j for fid, j in accepted if fid == rec.fid}
    rest = overall_verdict([j for j in rec.judgements if j.claim not in ours], rec.errors, rec.effect)
    return gate(rec.fid, rec.verdict, rec.judgements, rest, accepted)
