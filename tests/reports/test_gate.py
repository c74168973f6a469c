"""The gate on hand-made run folders: accepted findings exit 0, new ones 1, and every file says which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import reports
from core.verdict import Judgement, Verdict
from tests.reports.records import judgements_for, scenario, write

ACCEPTED = """
[[finding]]
failure_point = "F9"
judgement = "wal_rows_kept"
reason = "a damaged -wal drops committed rows"
shown_by = "runs/20261201-155509"
fix = "check the frames at startup"
"""
KEPT_VIOLATED = Judgement("wal_rows_kept", Verdict.VIOLATED, 3, 0, "rows", {"dropped": ["a", "b", "c"]})


@pytest.fixture(autouse=True)
def accepted_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "accepted.toml"
    path.write_text(ACCEPTED, encoding="utf-8")
    monkeypatch.setenv("ECOECO_ACCEPTED_FINDINGS", str(path))


def f9(*extra: Judgement, base: Verdict = Verdict.HOLDS) -> list[Judgement]:
    return [*judgements_for("F9", base), *extra]


def test_only_accepted_violations_exit_0_and_the_report_still_says_violated(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "a", [scenario("F1"), scenario("F9", judgements=f9(KEPT_VIOLATED))])
    result = reports.build(run_dir)
    assert result.verdict is Verdict.VIOLATED and result.exit_code == 0 and reports.exit_code(run_dir) == 0
    doc = json.loads(result.json.read_text())
    assert doc["verdict"] == "violated" and doc["exit_code"] == 0
    assert doc["gate"]["new"] == [] and [a["judgement"] for a in doc["gate"]["accepted"]] == ["wal_rows_kept"]
    summary = result.summary.read_text()
    assert "gate: HOLDS (exit 0): 0 new findings, 1 accepted" in summary and "accepted: F9 `wal_rows_kept`" in summary
    assert "check the frames at startup" in result.html.read_text()


def test_a_new_violation_exits_1_and_is_named(tmp_path: Path) -> None:
    run_dir = write(
        tmp_path / "runs" / "b", [scenario("F8", Verdict.VIOLATED), scenario("F9", judgements=f9(KEPT_VIOLATED))]
    )
    result = reports.build(run_dir)
    assert result.exit_code == 1
    gate = json.loads(result.json.read_text())["gate"]
    assert gate["new"] == [{"failure_point": "F8", "judgement": "upload:rpo"}]
    assert "new: F8 `upload:rpo`" in result.summary.read_text()


def test_a_new_violation_in_the_accepted_scenario_exits_1(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "c", [scenario("F9", judgements=f9(KEPT_VIOLATED, base=Verdict.VIOLATED))])
    assert reports.exit_code(run_dir) == 1


def test_an_accepted_finding_that_held_exits_1_and_asks_for_the_file_to_be_corrected(tmp_path: Path) -> None:
    held = Judgement("wal_rows_kept", Verdict.HOLDS, 0, 0, "rows")
    run_dir = write(tmp_path / "runs" / "d", [scenario("F9", judgements=f9(held))])
    result = reports.build(run_dir)
    assert result.verdict is Verdict.HOLDS and result.exit_code == 1
    assert "accepted but held: F9 `wal_rows_kept`" in result.summary.read_text()


def test_an_inconclusive_scenario_beside_an_accepted_finding_exits_2(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "e", [scenario("F9", judgements=f9(KEPT_VIOLATED, base=Verdict.INCONCLUSIVE))])
    assert reports.exit_code(run_dir) == 2


def test_an_unreadable_findings_file_is_a_harness_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[finding]]\nfailure_point = 'F9'\n", encoding="utf-8")
    monkeypatch.setenv("ECOECO_ACCEPTED_FINDINGS", str(bad))
    run_dir = write(tmp_path / "runs" / "f", [scenario("F1")])
    assert reports.exit_code(run_dir) == 3
