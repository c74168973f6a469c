"""--repeat N: a point stops at its first violation, its record is the first of its worst runs, and
a claim that held in every run gets the rule-of-three bound; each can fail on a hand-made history."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core.record import RecordError, Repeat, ScenarioRecord, scenario_from_json, to_json
from core.repeat import combine, confidence, repeat_name, run_repeated
from core.verdict import Judgement, Verdict
from tests.unit.test_record import scenario


def run_with(verdict: Verdict, name: str, rto: float = 12.5) -> ScenarioRecord:
    judgements = [
        Judgement("rto:waste:injection", verdict, rto, 30, "s", {"samples": 40}),
        Judgement("rpo", Verdict.HOLDS, 0, 0, "ops", {"counts": {"lost": 0}, "samples": {}}),
    ]
    return scenario(fid=name, verdict=verdict, judgements=judgements)


def scripted(*verdicts: Verdict) -> tuple[list[str], object]:
    names: list[str] = []
    plan = iter(verdicts)

    def run_one(name: str) -> ScenarioRecord:
        names.append(name)
        return run_with(next(plan), name, rto=len(names))

    return names, run_one


def test_one_run_keeps_the_points_own_name_and_no_repeats() -> None:
    names, run_one = scripted(Verdict.HOLDS)
    rec = run_repeated("F7", 1, run_one)  # type: ignore[arg-type]
    assert names == ["F7"] and rec.fid == "F7" and rec.repeats == []


def test_a_point_stops_at_its_first_violation_and_is_judged_by_it() -> None:
    names, run_one = scripted(Verdict.HOLDS, Verdict.INCONCLUSIVE, Verdict.VIOLATED, Verdict.HOLDS, Verdict.HOLDS)
    rec = run_repeated("F7", 5, run_one)  # type: ignore[arg-type]
    assert names == ["F7.r1", "F7.r2", "F7.r3"]  # runs 4 and 5 never start
    assert rec.fid == "F7" and rec.verdict is Verdict.VIOLATED
    assert rec.judgements[0].measured == 3  # the violating run's own evidence, not the first run's
    assert [(r.n, r.verdict, r.path) for r in rec.repeats] == [
        (1, Verdict.HOLDS, "scenarios/F7.r1.json"),
        (2, Verdict.INCONCLUSIVE, "scenarios/F7.r2.json"),
        (3, Verdict.VIOLATED, "scenarios/F7.r3.json"),
    ]


def test_an_inconclusive_run_is_never_hidden_by_later_passes() -> None:
    names, run_one = scripted(Verdict.HOLDS, Verdict.INCONCLUSIVE, Verdict.HOLDS)
    rec = run_repeated("F2", 3, run_one)  # type: ignore[arg-type]
    assert len(names) == 3 and rec.verdict is Verdict.INCONCLUSIVE and rec.judgements[0].measured == 2


def test_the_first_of_equally_bad_runs_is_kept() -> None:
    rec = combine("F1", [run_with(Verdict.HOLDS, "F1.r1", 5), run_with(Verdict.HOLDS, "F1.r2", 9)])
    assert rec.verdict is Verdict.HOLDS and rec.judgements[0].measured == 5


def test_a_repeat_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_repeated("F1", 0, lambda name: run_with(Verdict.HOLDS, name))


def test_confidence_states_the_rule_of_three_only_when_every_run_held() -> None:
    repeats = [
        Repeat(1, Verdict.HOLDS, {"rto": Verdict.HOLDS, "rpo": Verdict.HOLDS}, "a"),
        Repeat(2, Verdict.VIOLATED, {"rto": Verdict.VIOLATED, "rpo": Verdict.HOLDS}, "b"),
    ]
    rto, rpo = confidence(repeats)
    assert (rto.claim, rto.held, rto.runs, rto.upper_bound) == ("rto", 1, 2, None)
    assert rto.text == "held in 1 of 2 (violated in run 2)"
    assert (rpo.held, rpo.runs) == (2, 2)
    assert rpo.text.startswith("held in 2 of 2; P(violation) < 3/2 at 95 %")
    ten = confidence([Repeat(n, Verdict.HOLDS, {"rpo": Verdict.HOLDS}, "x") for n in range(1, 11)])[0]
    assert ten.upper_bound == pytest.approx(0.2589, abs=1e-4)  # 1 - 0.05^(1/10), near 3/10
    assert "3/10" in ten.text


def test_a_claim_judged_in_fewer_runs_counts_only_those() -> None:
    repeats = [Repeat(1, Verdict.HARNESS_ERROR, {}, "a"), Repeat(2, Verdict.HOLDS, {"rpo": Verdict.HOLDS}, "b")]
    (rpo,) = confidence(repeats)
    assert (rpo.held, rpo.runs, rpo.verdicts) == (1, 1, ((2, Verdict.HOLDS),))


def test_repeats_round_trip_and_a_record_better_than_its_worst_run_is_refused() -> None:
    rec = combine("F7", [run_with(Verdict.HOLDS, "F7.r1"), run_with(Verdict.VIOLATED, "F7.r2")])
    assert scenario_from_json(to_json(rec)) == rec
    data = json.loads(to_json(rec))
    data["repeats"][1]["verdict"] = "holds"
    data["repeats"][0]["verdict"] = "violated"  # still a violation somewhere: fine
    scenario_from_json(json.dumps(data))
    data["repeats"][0]["verdict"] = "holds"  # no run violated, yet the record says VIOLATED
    with pytest.raises(RecordError, match="not the worst of its repeats"):
        scenario_from_json(json.dumps(data))
    with pytest.raises(RecordError, match=r"numbered 1\.\.n"):
        to_json(replace(rec, repeats=list(reversed(rec.repeats))))
    data = json.loads(to_json(rec))
    data["repeats"][0]["judgements"]["rpo"] = "fine"
    with pytest.raises(RecordError, match="every value must be a verdict"):
        scenario_from_json(json.dumps(data))


def test_the_points_time_is_every_runs_time() -> None:
    runs = [
        replace(run_with(Verdict.HOLDS, "F1.r1"), parameters={"phases_s": {"hold": 6.0, "recovery": 5.5}}),
        replace(run_with(Verdict.HOLDS, "F1.r2"), parameters={"phases_s": {"hold": 6.25, "drain": 1}}),
    ]
    assert combine("F1", runs).parameters["phases_s"] == {"hold": 12.25, "recovery": 5.5, "drain": 1.0}


def test_repeat_names() -> None:
    assert repeat_name("F4-freeze", 2) == "F4-freeze.r2"
