"""reports.build on hand-made runs: every verdict, broken records, the three files, exit codes, the CLI."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

import reports
from core.evidence import EffectCheck
from core.record import LoadSummary, ScenarioRecord, Timeline, overall_verdict
from core.verdict import Verdict
from reports.__main__ import main
from tests.reports.records import T0, full_run, scenario, write

ALL = {"F1": Verdict.HOLDS, "F2": Verdict.VIOLATED, "F3": Verdict.INCONCLUSIVE, "F4": Verdict.HARNESS_ERROR}


KNOWN_FALSE = {"F2": {"upload:rpo": "auth-api restarts too slowly"}}  # the record carries its point's table


def mixed_run(tmp_path: Path) -> Path:
    return write(
        tmp_path / "runs" / "run-a",
        [scenario(fid, v, parameters={"known_false": KNOWN_FALSE.get(fid, {})}) for fid, v in ALL.items()],
    )


def test_every_verdict_is_rendered_plainly(tmp_path: Path) -> None:
    result = reports.build(mixed_run(tmp_path))
    html = result.html.read_text()
    assert result.verdict is Verdict.VIOLATED and result.exit_code == 1  # a violation outranks a harness error
    for label in ("HOLDS", "VIOLATED (known false)", "INCONCLUSIVE", "HARNESS ERROR", "NOT RUN"):
        assert label in html
    doc = json.loads(result.json.read_text())
    by_fid = {s["fid"]: s for s in doc["scenarios"]}
    assert [s["fid"] for s in doc["scenarios"]] == [f"F{i}" for i in range(1, 18)]
    assert {f: by_fid[f]["verdict"] for f in ALL} == {f: v.value for f, v in ALL.items()}
    # a known-false claim is still a violated claim: the report never softens it
    assert by_fid["F2"]["verdict"] == "violated" and by_fid["F2"]["label"] == "VIOLATED (known false)"
    assert doc["counts"] == {
        "holds": 1,
        "violated": 1,
        "inconclusive": 1,
        "harness_error": 1,
        "not_run": 13,
        "known_false": 1,
    }
    assert by_fid["F5"]["ran"] is False and by_fid["F5"]["verdict"] is None
    claims = by_fid["F2"]["claims"]
    assert {"claim": "upload:rpo", "verdict": "violated", "measured": 3, "claimed": 0, "unit": "ops"} in claims


def test_html_is_self_contained(tmp_path: Path) -> None:
    html = reports.build(mixed_run(tmp_path)).html.read_text()
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing may be fetched from the network"
    assert html.count("<svg") == 4 * len(ALL)  # four plots per scenario that ran
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert 'viewBox="0 0 960 ' in svg and 'width="100%"' in svg and "<title>" in svg


def test_summary_is_short_and_points_at_the_html(tmp_path: Path) -> None:
    result = reports.build(mixed_run(tmp_path))
    text = result.summary.read_text()
    assert len(text.splitlines()) <= 40
    assert "HARNESS ERROR" in text and "report.html" in text
    for fid in (f"F{i}" for i in range(1, 18)):
        assert re.search(rf"^\| {fid} \|", text, re.M)
    assert "harness error: heal of crash failed" in text  # why F4 is not a pass


def test_malformed_record_is_a_harness_error_and_the_report_still_builds(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "r", [scenario("F1"), scenario("F2")])
    (run_dir / "scenarios" / "F2.json").write_text('{"schema_version": 1, "fid": "F2"}')  # half a record
    result = reports.build(run_dir)
    assert result.verdict is Verdict.HARNESS_ERROR and reports.exit_code(run_dir) == 3
    doc = json.loads(result.json.read_text())
    f2 = next(s for s in doc["scenarios"] if s["fid"] == "F2")
    assert f2["verdict"] == "harness_error" and "record malformed" in f2["problem"]
    assert "record malformed" in result.html.read_text()


def test_missing_record_and_disagreeing_journal_are_harness_errors(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "r", [scenario("F1"), scenario("F2")], listed={"F1": Verdict.VIOLATED})
    (run_dir / "scenarios" / "F2.json").unlink()
    doc = json.loads(reports.build(run_dir).json.read_text())
    problems = {s["fid"]: s["problem"] for s in doc["scenarios"] if s["problem"]}
    assert "run.json says violated but the record says holds" in problems["F1"]
    assert "record missing" in problems["F2"]


def test_without_a_readable_run_json_the_scenarios_found_are_reported(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "r", [scenario("F7")])
    (run_dir / "run.json").write_text("{truncated")
    result = reports.build(run_dir)
    doc = json.loads(result.json.read_text())
    assert doc["verdict"] == "harness_error" and "run.json unreadable" in doc["problems"][0]
    assert next(s for s in doc["scenarios"] if s["fid"] == "F7")["verdict"] == "holds"


@pytest.mark.parametrize(
    ("verdict", "code"),
    [(Verdict.HOLDS, 0), (Verdict.VIOLATED, 1), (Verdict.INCONCLUSIVE, 2), (Verdict.HARNESS_ERROR, 3)],
)
def test_exit_codes(tmp_path: Path, verdict: Verdict, code: int) -> None:
    run_dir = write(tmp_path / "runs" / "r", [scenario("F1"), scenario("F8", verdict)])
    assert reports.exit_code(run_dir) == code
    assert reports.build(run_dir).exit_code == code
    assert main(["build", str(run_dir), "--gate"]) == code
    assert main(["build", str(run_dir)]) == 0  # building is not gating unless asked
    assert main(["exit-code", str(run_dir)]) == code


def test_missing_run_folder(tmp_path: Path) -> None:
    assert reports.exit_code(tmp_path / "nope") == 3
    assert main(["build", str(tmp_path / "nope")]) == 3
    with pytest.raises(FileNotFoundError):
        reports.build(tmp_path / "nope")


def test_default_is_runs_latest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    run_dir = write(runs / "20260101-000000", [scenario("F1")])
    (runs / "latest").symlink_to("20260101-000000")
    monkeypatch.setenv("ECOECO_RUNS_DIR", str(runs))
    assert main(["build"]) == 0
    assert (run_dir / "report.html").exists()  # written into the real folder, not through the link


def test_junit_is_linked_when_present(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "r", [scenario("F1")])
    assert "junit.xml" not in reports.build(run_dir).html.read_text()
    (run_dir / "junit.xml").write_text("<testsuites/>")
    result = reports.build(run_dir)
    assert 'href="junit.xml"' in result.html.read_text()
    assert json.loads(result.json.read_text())["files"]["junit"] == "junit.xml"


def test_scenarios_outside_the_catalogue_are_reported(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "r", [scenario("control-dup", Verdict.VIOLATED)])
    result = reports.build(run_dir)
    doc = json.loads(result.json.read_text())
    assert [s["fid"] for s in doc["scenarios"]] == ["control-dup"]  # no seventeen "not run" rows
    assert doc["scenarios"][0]["catalogued"] is False and doc["verdict"] == "violated"


def test_full_run_all_holds(tmp_path: Path) -> None:
    result = reports.build(full_run(tmp_path / "runs" / "r"))
    assert result.verdict is Verdict.HOLDS and result.exit_code == 0
    assert "17 of 17 failure points run: 17 holds" in result.html.read_text()


def test_aborted_scenario_is_inconclusive_without_plots(tmp_path: Path) -> None:
    unseen = [EffectCheck("steady state before injection", False, "timed out after 120 s")]
    aborted = scenario(
        "F5",
        timeline=Timeline(T0, 121.0),
        effect=unseen,
        judgements=[],
        load=LoadSummary(),
        probes={},
        queue_depth={},
        wal_pending={},
        ledger={},
        verdict=overall_verdict([], [], unseen),
    )
    result = reports.build(write(tmp_path / "runs" / "r", [aborted]))
    html = result.html.read_text()
    assert result.verdict is Verdict.INCONCLUSIVE and result.exit_code == 2
    assert "Nothing was sampled" in html and "<svg" not in html and "NOT seen" in html
    assert "fault not shown to take effect" in result.summary.read_text()


def test_the_report_carries_the_claims_lint_as_written_and_at_the_runs_scale(tmp_path: Path) -> None:
    result = reports.build(write(tmp_path / "runs" / "lint", [scenario("F1")]))
    lint = {(r["failure_point"], r["check"], r["source"]): r for r in json.loads(result.json.read_text())["lint"]}
    f1 = lint[("F1", "alert vs RTO", "design")]
    assert f1["as_written"]["verdict"] == "undecidable" and f1["as_written"]["needs_s"] == [60, 90]
    assert f1["this_run"]["verdict"] == "ok"  # the run's time scale is 0.02: for 1m is 1.2 s
    html = result.html.read_text()
    assert "Claims lint" in html and "WasteAPIDown needs at least 60 s" in html


def test_the_report_shows_where_each_scenarios_time_went(tmp_path: Path) -> None:
    def timed(fid: str, phases: dict[str, float]) -> ScenarioRecord:
        rec = scenario(fid)
        return replace(rec, parameters={**rec.parameters, "phases_s": phases})

    run_dir = write(
        tmp_path / "runs" / "time",
        [
            timed(
                "F1",
                {
                    "steady-state gate": 2.0,
                    "load warm-up": 5.5,
                    "inject crash_loop": 0.5,
                    "hold": 6.0,
                    "heal": 1.0,
                    "recovery": 4.0,
                    "drain": 10.25,
                    "audit": 3.0,
                    "done": 0.0,
                },
            ),
            timed("F2", {"steady-state gate": 1.0, "inject crash": 0.25, "recovery": 30.0, "audit": 2.0}),
            scenario("F3"),  # no phases recorded: left out, not counted as zero
        ],
    )
    result = reports.build(run_dir)
    doc = json.loads(result.json.read_text())["time_s"]
    assert doc["per_scenario"]["F1"] == {
        "steady-state gate": 2.0,
        "load warm-up": 5.5,
        "inject": 0.5,
        "hold": 6.0,
        "heal": 1.0,
        "recovery": 4.0,
        "drain": 10.25,
        "audit": 3.0,
        "total": 32.25,
    }
    assert set(doc["per_scenario"]) == {"F1", "F2"}
    assert doc["per_phase"]["recovery"] == 34.0 and doc["per_phase"]["total"] == 65.5
    assert "Time in scenarios: 65.5 s (recovery 34 s, drain 10.2 s, hold 6 s;" in result.summary.read_text()
    html = result.html.read_text()
    assert "Where the time went" in html and "<td><b>32.2</b></td>" in html and "<td><b>65.5</b></td>" in html


def test_a_scenarios_section_shows_where_its_cpu_went(tmp_path: Path) -> None:
    use = {"wall_s": 60.0, "host_busy": 1.93, "steal": 0.41, "iowait": 0.0, "outside_containers": 0.3}
    rec = scenario("F4", Verdict.VIOLATED)
    rec = replace(
        rec, parameters={**rec.parameters, "cpu_by_phase": {"recovery": {**use, "containers": {"rabbitmq-3": 1.1}}}}
    )
    html = reports.build(write(tmp_path / "runs" / "cpu", [rec])).html.read_text()
    assert "Where the CPU went" in html and "<td>recovery</td>" in html and "rabbitmq-3 1.1" in html
    assert '"cpu_by_phase"' not in html and "cpu_by_phase" not in html  # a table, not a JSON dump


def test_odd_cpu_values_show_as_dashes_and_the_report_still_builds(tmp_path: Path) -> None:
    odd = {"recovery": {"wall_s": "60", "host_busy": None, "containers": ["x"], "restarted": ["rabbitmq-1"]}, "hold": 3}
    rec = scenario("F4", Verdict.VIOLATED)
    html = reports.build(
        write(tmp_path / "runs" / "odd", [replace(rec, parameters={**rec.parameters, "cpu_by_phase": odd})])
    )
    text = html.html.read_text()
    assert "<td>recovery</td><td>—</td><td>—</td>" in text and "restarted: rabbitmq-1" in text
