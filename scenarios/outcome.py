"""Turn a scenario record into a pytest outcome, without ever mixing verdicts up.

holds -> pass; violated -> fail, unless the catalogue records that this claim of the design
is known to be false (then xfail with the evidence, and a fail if it ever holds); inconclusive
-> skip with the reason (never a pass: the report and the chaos command's exit code say
inconclusive); harness error -> fail.
"""

from __future__ import annotations

import json

import pytest

from harness.record import ScenarioRecord
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


def settle(record: ScenarioRecord, known_false: str | None) -> None:
    """Raise the pytest outcome that matches the record's verdict."""
    text = explain(record)
    if record.verdict is Verdict.HARNESS_ERROR:
        pytest.fail(text)
    if record.verdict is Verdict.INCONCLUSIVE:
        pytest.skip(f"INCONCLUSIVE (not a pass): {text}")
    if record.verdict is Verdict.VIOLATED:
        if known_false:
            pytest.xfail(f"design claim known false: {known_false}\n{text}")
        pytest.fail(text)
    if known_false:
        pytest.fail(f"{record.fid} was expected to violate its claim ({known_false}) but it held:\n{text}")
