"""Comparison with the previous run: which run is previous, verdict moves, RTO deltas, in all three files."""

from __future__ import annotations

import json
from pathlib import Path

import reports
from core.verdict import Verdict
from reports.compare import compare
from reports.runs import load_run, previous_run_dir
from tests.reports.records import T0, scenario, write


def three_runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    write(runs / "old", [scenario("F1")], started=T0)
    write(runs / "prev", [scenario("F1", Verdict.VIOLATED, rto_s=40.0), scenario("F2")], started=T0 + 100)
    current = write(runs / "cur", [scenario("F1", rto_s=12.0), scenario("F3", Verdict.INCONCLUSIVE)], started=T0 + 200)
    write(runs / "later", [scenario("F1")], started=T0 + 300)  # newer than cur: not its previous
    (runs / "no-record").mkdir()
    (runs / "latest").symlink_to("later")
    return current


def test_previous_is_the_latest_earlier_run(tmp_path: Path) -> None:
    current = three_runs(tmp_path)
    assert previous_run_dir(current) == (tmp_path / "runs" / "prev").resolve()
    assert previous_run_dir(tmp_path / "runs" / "old") is None
    assert previous_run_dir(tmp_path / "runs" / "latest") == (tmp_path / "runs" / "cur").resolve()


def test_previous_prefers_a_run_with_the_same_scenarios(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write(runs / "chaos-1", [scenario("F1")], started=T0)
    write(runs / "controls", [scenario("control-dup")], started=T0 + 100)
    current = write(runs / "chaos-2", [scenario("F1")], started=T0 + 200)
    assert previous_run_dir(current) == (runs / "chaos-1").resolve()
    assert previous_run_dir(write(runs / "other", [scenario("F5")], started=T0 + 300)) == current.resolve()


def test_directions_and_rto_delta(tmp_path: Path) -> None:
    current = three_runs(tmp_path)
    c = compare(load_run(current), load_run(tmp_path / "runs" / "prev"))
    moves = {ch.fid: ch.direction for ch in c.changes}
    assert moves == {"F1": "better", "F2": "not run", "F3": "new"}
    f1 = c.change("F1")
    assert f1 is not None
    [rto] = f1.rto_deltas()
    assert (rto.before, rto.after, rto.change) == (40.0, 12.0, -28.0)
    rpo = next(d for d in f1.deltas if d.claim == "upload:rpo")
    assert (rpo.verdict_before, rpo.verdict_after, rpo.change) == (Verdict.VIOLATED, Verdict.HOLDS, -3.0)


def test_comparison_in_every_file(tmp_path: Path) -> None:
    result = reports.build(three_runs(tmp_path))
    assert result.previous_run_id == "prev"
    doc = json.loads(result.json.read_text())["previous"]
    assert doc["run_id"] == "prev" and doc["moves"]["better"] == 1 and doc["moves"]["new"] == 1
    f1 = next(ch for ch in doc["changes"] if ch["fid"] == "F1")
    assert f1["before"] == "violated" and f1["after"] == "holds"
    assert any(d["claim"].startswith("rto:") and d["change"] == -28.0 for d in f1["deltas"])
    summary = result.summary.read_text()
    assert "Compared with `prev`" in summary and "better (RTO -28 s)" in summary
    html = result.html.read_text()
    assert "Compared with the previous run" in html and "40 → 12 s (-28 s)" in html


def test_first_run_has_no_comparison(tmp_path: Path) -> None:
    result = reports.build(write(tmp_path / "runs" / "only", [scenario("F1")]))
    assert result.previous_run_id is None
    assert json.loads(result.json.read_text())["previous"] is None
