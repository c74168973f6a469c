"""The trend over the last runs: aligned per run, verdict changes named, bounded, absent for a first run."""

from __future__ import annotations

import json
from pathlib import Path

import reports
from core.verdict import Verdict
from reports.runs import load_run
from reports.trend import RUNS, changes, trend
from tests.reports.records import T0, scenario, write


def run(root: Path, name: str, started: float, **verdicts: Verdict) -> Path:
    recs = [scenario(fid, v, rto_s=10.0 + started / 100) for fid, v in verdicts.items()]
    return write(root / name, recs, started=started, run_id=name)


def test_each_point_has_one_entry_per_run_and_its_changes(tmp_path: Path) -> None:
    run(tmp_path, "r1", T0, F1=Verdict.HOLDS, F2=Verdict.HOLDS)
    run(tmp_path, "r2", T0 + 100, F2=Verdict.VIOLATED)  # F1 did not run here
    run(tmp_path, "other", T0 + 150, F9=Verdict.HOLDS)  # shares nothing with the current run: left out
    current = run(tmp_path, "r3", T0 + 200, F1=Verdict.HOLDS, F2=Verdict.HOLDS)
    series = trend(load_run(current))
    assert series.runs == ["r1", "r2", "r3"]
    f1, f2 = series.points["F1"], series.points["F2"]
    assert [p.verdict if p else None for p in f1] == [Verdict.HOLDS, None, Verdict.HOLDS]
    assert changes(f1) == []
    assert changes(f2) == ["holds → violated in r2", "violated → holds in r3"]
    first, last = f2[0], f2[2]
    assert first and last and first.rto_s is not None and last.rto_s is not None and first.rto_s < last.rto_s


def test_a_run_that_started_later_is_not_history(tmp_path: Path) -> None:
    current = run(tmp_path, "r1", T0, F1=Verdict.HOLDS)
    run(tmp_path, "r2", T0 + 100, F1=Verdict.VIOLATED)
    assert trend(load_run(current)).runs == ["r1"]


def test_the_history_is_bounded(tmp_path: Path) -> None:
    for i in range(RUNS + 3):
        run(tmp_path, f"r{i:02d}", T0 + i, F1=Verdict.HOLDS)
    series = trend(load_run(tmp_path / f"r{RUNS + 2:02d}"))
    assert len(series.runs) == RUNS and series.runs[0] == "r03"


def test_the_report_shows_the_trend_only_with_history(tmp_path: Path) -> None:
    first = reports.build(run(tmp_path, "r1", T0, F1=Verdict.HOLDS))
    assert "Trend over" not in first.html.read_text()
    second = reports.build(run(tmp_path, "r2", T0 + 100, F1=Verdict.VIOLATED))
    html = second.html.read_text()
    assert "Trend over the last 2 runs" in html and "holds → violated in r2" in html and 'class="spark"' in html
    doc = json.loads(second.json.read_text())["trend"]
    assert doc["runs"] == ["r1", "r2"] and [p["verdict"] for p in doc["points"]["F1"]] == ["holds", "violated"]
