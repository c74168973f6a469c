"""Scenario and run records: JSON round trip, files, and rejection of malformed records."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.checkers import Sample
from core.evidence import EffectCheck
from core.record import (
    LoadSummary,
    RecordError,
    RunRecord,
    ScenarioEntry,
    ScenarioRecord,
    Timeline,
    overall_verdict,
    probe_series,
    read_run,
    read_scenario,
    run_from_json,
    scenario_from_json,
    to_json,
    write_run,
    write_scenario,
)
from core.verdict import Judgement, Verdict

T0 = 1_700_000_000.0


def scenario(**changes: Any) -> ScenarioRecord:
    judgements = [
        Judgement("rto:waste:injection", Verdict.HOLDS, 12.5, 30, "s", {"samples": 40}),
        Judgement("rpo", Verdict.HOLDS, 0, 0, "ops", {"counts": {"lost": 0}, "samples": {}}),
    ]
    rec = ScenarioRecord(
        fid="F1",
        title="waste-api down",
        time_scale=0.1,
        timeline=Timeline(T0, end_s=90.0, injected_s=10.0, healed_s=10.0, recovered_s=22.5, drained_s=60.0),
        verdict=Verdict.HOLDS,
        judgements=judgements,
        effect=[EffectCheck("waste-api not running", True, "pid gone")],
        parameters={"outage_s": 0, "users": 5},
        load=LoadSummary([[0, 10, 0], [1, 12, 3]], {"POST /tasks": 22}),
        probes=probe_series([Sample(T0 + 1, "waste", True), Sample(T0 + 2, "waste", False)], T0),
        queue_depth={"user_input_queue": [[0, 0], [1, 5]]},
        wal_pending={"worker-storage": [[0, 0]]},
        ledger={"upload": {"invoke": 22, "ok": 19, "fail": 3, "info": 0}},
    )
    return replace(rec, **changes)


def test_scenario_round_trip(tmp_path: Path) -> None:
    rec = scenario()
    assert scenario_from_json(to_json(rec)) == rec
    path = write_scenario(tmp_path / "runs" / "r1", rec)
    assert path == tmp_path / "runs" / "r1" / "scenarios" / "F1.json"
    assert read_scenario(path) == rec
    assert json.loads(path.read_text())["verdict"] == "holds"  # plain strings for the reports


def test_run_round_trip(tmp_path: Path) -> None:
    run = RunRecord(
        run_id="20250101-120000",
        started_unix=T0,
        finished_unix=T0 + 600,
        git_commit="abc123",
        time_scale=0.1,
        verdict=Verdict.VIOLATED,
        scenarios=[
            ScenarioEntry("F1", Verdict.HOLDS, "scenarios/F1.json"),
            ScenarioEntry("F4", Verdict.VIOLATED, "scenarios/F4.json"),
        ],
    )
    assert run_from_json(to_json(run)) == run
    write_run(tmp_path, run)
    assert read_run(tmp_path) == run


def test_overall_verdict_rules() -> None:
    holds = [Judgement("a", Verdict.HOLDS, 0, 0, "ops")]
    ok_effect = [EffectCheck("down", True)]
    assert overall_verdict(holds, [], ok_effect) is Verdict.HOLDS
    assert overall_verdict(holds, [], []) is Verdict.INCONCLUSIVE  # no proof the fault bit
    assert overall_verdict(holds, [], [EffectCheck("down", False)]) is Verdict.INCONCLUSIVE
    assert overall_verdict(holds, ["heal failed"], ok_effect) is Verdict.HARNESS_ERROR
    assert overall_verdict([], [], ok_effect) is Verdict.INCONCLUSIVE


def test_inconclusive_recorded_as_pass_is_rejected() -> None:
    rec = scenario(judgements=[Judgement("rpo", Verdict.INCONCLUSIVE, None, 0, "ops")])
    with pytest.raises(RecordError, match="contradicts"):
        to_json(rec)


def mutate(path: list[str | int], value: Any) -> str:
    data = json.loads(to_json(scenario()))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["fid"], KeyError, "scenario.fid: missing"),
        (["time_scale"], "fast", "time_scale: expected a finite number"),
        (["time_scale"], 0, "time_scale: must be a positive number"),
        (["verdict"], "passed", "unknown verdict 'passed'"),
        (["timeline", "t0_unix"], True, "timeline.t0_unix: expected a finite number"),
        (["timeline", "healed_s"], 500.0, "timeline.healed_s: 500.0 is outside"),
        (["effect", 0, "ok"], "yes", r"effect\[0\].ok: expected bool"),
        (["judgements", 0, "verdict"], "meh", r"judgements\[0\]"),
        (["probes", "waste"], [[2, 1], [1, 0]], "time goes backwards"),
        (["queue_depth", "user_input_queue", 0], [0], "expected 2 numbers"),
        (["load", "per_second"], [[0, 1]], r"load.per_second\[0\]: expected 3 numbers"),
        (["schema_version"], 99, "schema_version: expected 1"),
    ],
)
def test_malformed_scenario_is_rejected_with_a_clear_message(path: list[str | int], value: Any, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        scenario_from_json(mutate(path, value))


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(RecordError, match="not JSON"):
        scenario_from_json("{")
    with pytest.raises(RecordError, match="expected a JSON object"):
        scenario_from_json("[]")


def test_unserialisable_evidence_is_rejected() -> None:
    rec = scenario(judgements=[Judgement("rpo", Verdict.HOLDS, 0, 0, "ops", {"ids": {"a"}})])
    with pytest.raises(RecordError, match="not serialisable"):
        to_json(rec)


def test_run_verdict_must_match_scenarios() -> None:
    run = RunRecord("r1", T0, 1.0, Verdict.HOLDS, [ScenarioEntry("F1", Verdict.INCONCLUSIVE, "scenarios/F1.json")])
    with pytest.raises(RecordError, match="contradicts the scenarios"):
        to_json(run)
    with pytest.raises(RecordError, match="run_id"):
        to_json(replace(run, run_id="../x", verdict=Verdict.INCONCLUSIVE))
