"""A repeated failure point in the report: held in k of n per claim, the rule-of-three bound, each run linked."""

from __future__ import annotations

import json
from pathlib import Path

import reports
from core.claims import all_claims
from core.record import write_scenario
from core.repeat import combine
from core.verdict import Verdict
from tests.reports.records import scenario, write


def test_a_repeated_point_shows_each_claim_over_its_runs(tmp_path: Path) -> None:
    runs = [scenario(f"F7.r{n}", Verdict.HOLDS, rto_s=10.0 + n) for n in (1, 2, 3)]
    held = combine("F7", runs)
    broke = combine("F2", [scenario("F2.r1", Verdict.HOLDS), scenario("F2.r2", Verdict.VIOLATED, rto_s=99.0)])
    for r in [*runs]:
        write_scenario(tmp_path, r)
    others = [scenario(c.fid) for c in all_claims() if c.fid not in {"F2", "F7"}]
    result = reports.build(write(tmp_path, [held, broke, *others]))

    doc = {s["fid"]: s for s in json.loads(result.json.read_text())["scenarios"]}
    f7 = doc["F7"]["repeats"]
    assert [r["path"] for r in f7["runs"]] == ["scenarios/F7.r1.json", "scenarios/F7.r2.json", "scenarios/F7.r3.json"]
    assert all(c["held"] == 3 and c["runs"] == 3 and c["p_violation_below"] > 0.6 for c in f7["claims"])
    f2 = doc["F2"]["repeats"]
    assert doc["F2"]["verdict"] == "violated" and [r["verdict"] for r in f2["runs"]] == ["holds", "violated"]
    assert any(c["held"] == 1 and c["p_violation_below"] is None for c in f2["claims"])
    assert doc["F1"]["repeats"] is None

    html = result.html.read_text()
    assert "Repeated: 3 runs</h3>" in html and "P(violation) &lt; 3/3 at 95 %" in html
    assert "Repeated: 2 runs (stopped at the first violation)</h3>" in html and "violated in run 2" in html
    summary = result.summary.read_text()
    assert "- F2, 2 runs:" in summary and "held in 1 of 2 (violated in run 2)" in summary
    assert "- F7: every claim held in 3 of 3 runs; P(violation) < 3/3 at 95 %" in summary
    assert result.exit_code == 1  # the violation of a repeat is the point's violation for the gate
