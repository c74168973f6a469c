"""The detection score from control records: caught, missed and not-run defects, and what a
missed one does to the run's verdict."""

from __future__ import annotations

from pathlib import Path

import reports
from core.record import ScenarioRecord
from core.verdict import Judgement, Verdict
from reports.detection import score
from reports.runs import load_run
from scenarios.defects import DEFECTS
from tests.reports.records import judgements_for, scenario, write


def control(defect: str, point: str, must: str, verdict: Verdict) -> ScenarioRecord:
    js = [*judgements_for(point, Verdict.HOLDS), Judgement(must, verdict, 3, 0, "ops", {})]
    js = [j for j in js if j.claim != must or j.verdict is verdict]
    return scenario(
        f"control-{defect}-{point}",
        judgements=js,
        parameters={"planted_defect": defect, "must_violate": must, "point": {"fid": point, "mode": ""}},
    )


def test_caught_missed_and_equivalent_defects(tmp_path: Path) -> None:
    run_dir = write(
        tmp_path / "runs" / "c",
        [
            scenario("F8"),
            control("ack_before_wal", "F8", "upload:rpo", Verdict.VIOLATED),
            control("no_idempotency", "F8", "upload:exactly_once", Verdict.HOLDS),  # missed
            control("transient_delivery+classic_queues", "F6", "upload:rpo", Verdict.VIOLATED),
        ],
    )
    found = score(load_run(run_dir))
    assert found is not None
    by = {r.defect: r for r in found.results}
    assert by["ack_before_wal"].caught is True and by["no_idempotency"].caught is False
    # equivalent alone: counted through the combined defect that shows it
    assert by["transient_delivery"].caught is True and by["transient_delivery"].covered_by
    assert by["classic_queues"].caught is True
    assert by["sync_gives_up"].caught is None  # not planted in this run
    assert found.caught == 4 and found.planted == 5 and len(found.results) == len(DEFECTS)
    assert not found.complete
    result = reports.build(run_dir)
    # a missed defect means the suite cannot be trusted: never a pass
    assert result.verdict is Verdict.HARNESS_ERROR
    summary = result.summary.read_text()
    assert f"**4 of {len(DEFECTS)}**" in summary and "❌ NO" in summary
    assert "Planted defects: 4 of" in result.html.read_text()


def test_a_caught_control_counts_as_a_pass_and_stays_out_of_the_scorecard(tmp_path: Path) -> None:
    run_dir = write(
        tmp_path / "runs" / "c", [scenario("F8"), control("ack_before_wal", "F8", "upload:rpo", Verdict.VIOLATED)]
    )
    result = reports.build(run_dir)
    assert result.verdict is Verdict.HOLDS and result.exit_code == 0
    assert "control-ack_before_wal-F8" not in result.summary.read_text().split("###")[0]
    assert score(load_run(write(tmp_path / "runs" / "d", [scenario("F8")]))) is None
