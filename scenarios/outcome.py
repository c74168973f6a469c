"""Turn a scenario record into a pytest outcome, without ever mixing verdicts up.

Known-false claims are single judgements, the accepted findings of accepted-findings.toml
(core/findings.py decides, for pytest and the exit code alike): a scenario whose only
non-holding judgements are accepted ones, with everything else holding, is an xfail; any other
violation, an inconclusive judgement, an unproven fault or a harness error fails the test, and
an accepted judgement that holds fails it too (so the file is corrected). INCONCLUSIVE is never
a pass: it fails with the reason.

The design as written (--as-written) is on trial rather than gated: a violated claim is the
review's finding, an xfail with its evidence; inconclusive and harness errors still fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from core import findings
from core.findings import Finding
from core.record import ScenarioRecord, unjudged_verdict
from core.verdict import Verdict


def explain(record: ScenarioRecord) -> str:
    """A few lines a CI log reader can act on."""
    lines = [f"{record.fid} {record.title}: {record.verdict.value.upper()}"]
    for j in record.judgements:
        if j.verdict is not Verdict.HOLDS:
            ev = j.evidence if isinstance(j.evidence, str) else json.dumps(j.evidence, default=str)[:600]
            lines.append(f"  {j.claim}: {j.verdict.value} (measured {j.measured}, claimed {j.claimed} {j.unit}) {ev}")
    lines += [
        f"  effect: {e.check}: {'ok' if e.ok else 'NOT SEEN'} {e.detail[:200]}" for e in record.effect if not e.ok
    ]
    lines += [f"  error: {e}" for e in record.errors]
    if record.verdict is not Verdict.HOLDS:
        lines += context(record)
    return "\n".join(lines)


def context(record: ScenarioRecord) -> list[str]:
    """What else the record saw, for a verdict that did not hold: container deaths, where the CPU
    went in the phases that decide recovery, and the services' first error lines."""
    p = record.parameters
    out: list[str] = []
    if p.get("down_spans_s"):
        out.append(f"  down (s after start): {json.dumps(p['down_spans_s'])}")
    cpu = p.get("cpu_by_phase")
    for phase, use in cpu.items() if isinstance(cpu, dict) else []:
        if phase in ("hold", "heal", "recovery", "drain") and isinstance(use, dict) and "host_busy" in use:
            cont = use.get("containers")
            busiest = ", ".join(f"{s} {c}" for s, c in cont.items()) if isinstance(cont, dict) else ""
            out.append(
                f"  cpu {phase} ({use.get('wall_s')} s): host {use.get('host_busy')} cores busy, "
                f"steal {use.get('steal')}, iowait {use.get('iowait')}, "
                f"outside containers {use.get('outside_containers')}; {busiest}"
            )
    errors = p.get("log_errors")
    for service, lines in errors.items() if isinstance(errors, dict) else []:
        out += [f"  log {service}: {line}" for line in (lines if isinstance(lines, list) else [lines])]
    if p.get("service_logs"):
        out.append(f"  service logs: scenarios/{p['service_logs']} beside the record")
    return out


def junit_properties(record: ScenarioRecord) -> list[tuple[str, object]]:
    """Figures a CI dashboard can plot from the JUnit XML: the verdict, then per judgement its
    verdict, measured and claimed value (RTO s, lost and duplicated ops, detection delay s, ...)."""
    out: list[tuple[str, object]] = [("verdict", record.verdict.value)]
    for j in record.judgements:
        out += [
            (f"{j.claim}.verdict", j.verdict.value),
            (f"{j.claim}.measured", j.measured),
            (f"{j.claim}.claimed", j.claimed),
            (f"{j.claim}.unit", j.unit),
        ]
    return out


def settle(record: ScenarioRecord, accepted: Mapping[tuple[str, str], Finding]) -> None:
    """Raise the pytest outcome that matches the record's verdict, with the accepted findings
    (accepted-findings.toml) set aside exactly as the exit code sets them aside."""
    text = explain(record)
    g = findings.gate_record(record, accepted)
    if g.stale:
        pytest.fail(
            f"{record.fid}: {', '.join(g.stale)} accepted as false but held; "
            f"delete it from accepted-findings.toml:\n{text}"
        )
    if g.verdict is Verdict.VIOLATED:
        pytest.fail(text)
    if g.verdict is Verdict.HARNESS_ERROR:
        pytest.fail(f"HARNESS ERROR: {text}")
    if g.verdict is Verdict.INCONCLUSIVE:
        pytest.fail(f"INCONCLUSIVE (not a pass): {text}")
    if g.accepted:
        reasons = "; ".join(f"{c}: {accepted[(record.fid, c)].reason}" for c in g.accepted)
        pytest.xfail(f"design claim known false (accepted finding): {reasons}\n{text}")


def settle_as_written(record: ScenarioRecord) -> None:
    """The pytest outcome of a scenario of the design as written: holds passes, violated is an
    expected failure (the design review's finding), anything else fails."""
    text = explain(record)
    rest = unjudged_verdict(record)  # a violation must not hide an error or an unjudged claim
    if rest is Verdict.HARNESS_ERROR:
        pytest.fail(f"HARNESS ERROR: {text}")
    if rest is Verdict.INCONCLUSIVE:
        pytest.fail(f"INCONCLUSIVE (not a pass): {text}")
    if record.verdict is Verdict.VIOLATED:
        pytest.xfail(f"the design as written violates its claim:\n{text}")
