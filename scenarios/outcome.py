"""Turn a scenario record into a pytest outcome, without ever mixing verdicts up.

Known-false claims are single judgements (the record's `known_false`): a scenario whose only
violations are those judgements, with everything else holding, is an xfail; any other
violation, an inconclusive judgement, an unproven fault or a harness error fails the test, and
a known-false judgement that holds fails it too (so the table is corrected). INCONCLUSIVE is
never a pass: it fails with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from harness.record import ScenarioRecord, overall_verdict
from harness.verdict import Verdict


def explain(record: ScenarioRecord) -> str:
    """A few lines a CI log reader can act on."""
    lines = [f"{record.fid} {record.title}: {record.verdict.value.upper()}"]
    for j in record.judgements:
        if j.verdict is not Verdict.HOLDS:
            ev = j.evidence if isinstance(j.evidence, str) else json.dumps(j.evidence, default=str)[:600]
            lines.append(f"  {j.claim}: {j.verdict.value} (measured {j.measured}, claimed {j.claimed} {j.unit}) {ev}")
    lines += [f"  effect: {e.check}: {'ok' if e.ok else 'NOT SEEN'} {e.detail[:200]}" for e in record.effect
              if not e.ok]
    lines += [f"  error: {e}" for e in record.errors]
    return "\n".join(lines)


def junit_properties(record: ScenarioRecord) -> list[tuple[str, object]]:
    """Figures a CI dashboard can plot from the JUnit XML: the verdict, then per judgement its
    verdict, measured and claimed value (RTO s, lost and duplicated ops, detection delay s, ...)."""
    out: list[tuple[str, object]] = [("verdict", record.verdict.value)]
    for j in record.judgements:
        out += [(f"{j.claim}.verdict", j.verdict.value), (f"{j.claim}.measured", j.measured),
                (f"{j.claim}.claimed", j.claimed), (f"{j.claim}.unit", j.unit)]
    return out


def settle(record: ScenarioRecord, known_false: Mapping[str, str]) -> None:
    """Raise the pytest outcome that matches the record's verdict."""
    text = explain(record)
    known = {j.claim: j.verdict for j in record.judgements if j.claim in known_false}
    rest = overall_verdict([j for j in record.judgements if j.claim not in known_false], record.errors,
                           record.effect)
    if rest is Verdict.VIOLATED:
        pytest.fail(text)
    if rest is Verdict.HARNESS_ERROR:
        pytest.fail(f"HARNESS ERROR: {text}")
    if rest is Verdict.INCONCLUSIVE:
        pytest.fail(f"INCONCLUSIVE (not a pass): {text}")
    held = [c for c, v in known.items() if v is Verdict.HOLDS]
    if held:
        pytest.fail(f"{record.fid}: {', '.join(held)} listed as known false but held; correct the catalogue:\n{text}")
    if any(v is Verdict.VIOLATED for v in known.values()):
        reasons = "; ".join(f"{c}: {known_false[c]}" for c, v in known.items() if v is Verdict.VIOLATED)
        pytest.xfail(f"design claim known false: {reasons}\n{text}")
