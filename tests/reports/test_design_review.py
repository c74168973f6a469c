"""The design review of an as-written run, on hand-made run folders: a violated claim is reported
with its evidence and its fix beside the hardened verdict, the run exits 0 once judged (2 when it
could not judge), and an as-written run is never the history of a hardened one."""

from __future__ import annotations

import json
from pathlib import Path

import reports
from core.evidence import EffectCheck
from core.verdict import Judgement, Verdict
from reports.design_review import review
from reports.runs import latest_hardened_runs, load_run, previous_run_dir
from tests.reports.records import T0, judgements_for, scenario, write


def never_fired(alert: str) -> Judgement:
    return Judgement(f"detection {alert}", Verdict.VIOLATED, None, None, "s", {"reason": f"{alert} never fired"})


def fired(alert: str) -> Judgement:
    return Judgement(f"detection {alert}", Verdict.HOLDS, 2.5, None, "s", {})


def as_written_run(runs: Path) -> Path:
    f7 = scenario("F7", Verdict.VIOLATED)  # 3 acknowledged uploads lost
    f2 = scenario("F2", judgements=[*judgements_for("F2", Verdict.HOLDS), never_fired("AuthAPIDown")])
    return write(runs / "b-as-written", [f2, f7], started=T0 + 1000, build="as-written")


def hardened_run(runs: Path) -> Path:
    f7 = scenario("F7", judgements=[*judgements_for("F7", Verdict.HOLDS), fired("WorkerStorageDown")])
    f2 = scenario("F2", judgements=[*judgements_for("F2", Verdict.HOLDS), fired("AuthAPIDown")])
    return write(runs / "a-hardened", [f2, f7], started=T0)


def test_a_violated_claim_shows_its_evidence_its_fix_and_the_hardened_verdict(tmp_path: Path) -> None:
    hardened = load_run(hardened_run(tmp_path / "runs"))
    run = load_run(as_written_run(tmp_path / "runs"))
    rows = {r.claim: r for r in review(run, {"F2": hardened, "F7": hardened})}
    rpo = rows["F7 Worker-Storage down: RPO = 0"]
    assert rpo.as_written.verdict is Verdict.VIOLATED and rpo.hardened.verdict is Verdict.HOLDS
    assert "F7: 3 / 0 ops" in rpo.as_written.text and "e.g. a, b, c" in rpo.as_written.text
    assert "republish_once" in rpo.fix and "timeout_drop" in rpo.fix
    general = rows["RPO = 0 for every failure type"]
    assert general.as_written.verdict is Verdict.VIOLATED and general.hardened.verdict is Verdict.HOLDS
    alert = rows["each failure is detected by a Prometheus alert"]
    assert alert.as_written.verdict is Verdict.VIOLATED and "the design gives no alert rule" in alert.as_written.text
    assert alert.hardened.verdict is Verdict.HOLDS and "metrics that exist" in alert.fix
    held = rows["RTO < 5 minutes for every failure type"]
    assert held.as_written.verdict is Verdict.HOLDS and held.fix == "—"
    # F2 is a table row too; F1 did not run and has no row
    assert "F2 auth-api down: RTO 30 s" in rows and not any(c.startswith("F1 ") for c in rows)


def test_the_as_written_run_exits_0_once_judged_and_writes_the_review(tmp_path: Path) -> None:
    hardened_run(tmp_path / "runs")
    result = reports.build(as_written_run(tmp_path / "runs"))
    assert result.verdict is Verdict.VIOLATED and result.exit_code == 0
    text = (result.run_dir / "design-review.md").read_text()
    assert "hardened run `a-hardened`" in text and "| F7 Worker-Storage down: RPO = 0 | VIOLATED | HOLDS |" in text
    doc = json.loads(result.json.read_text())
    assert doc["run"]["build"] == "as-written" and doc["gate"]["new"] == [] and doc["exit_code"] == 0
    assert doc["design_review"]["hardened_runs"] == ["a-hardened"]
    assert "Design review: the design as written" in result.html.read_text()


def test_an_as_written_run_that_could_not_judge_exits_2(tmp_path: Path) -> None:
    run_dir = write(tmp_path / "runs" / "c", [scenario("F7", Verdict.INCONCLUSIVE)], build="as-written")
    assert reports.build(run_dir).exit_code == 2
    rows = {r.claim: r for r in review(load_run(run_dir), {})}
    assert rows["RPO = 0 for every failure type"].hardened.text == "no hardened run in runs/"
    # a point that ran and could not judge is inconclusive, not "not run", whichever claim is asked
    stopped = scenario("F7", judgements=[], effect=[EffectCheck("steady state before injection", False, "timeout")])
    run_dir = write(tmp_path / "runs" / "d", [stopped], build="as-written")
    rows = {r.claim: r for r in review(load_run(run_dir), {})}
    for claim in ("F7 Worker-Storage down: RPO = 0", "RTO < 5 minutes for every failure type"):
        assert rows[claim].as_written.verdict is Verdict.INCONCLUSIVE
        assert (
            "not judged" in rows[claim].as_written.text
            and "fault not shown to take effect" in rows[claim].as_written.text
        )


def test_each_point_is_set_beside_the_newest_hardened_run_that_has_it(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    hardened_run(runs)  # F2 and F7
    write(runs / "a2", [scenario("F7", Verdict.VIOLATED)], started=T0 + 500)  # newer, F7 only
    run = as_written_run(runs)
    assert latest_hardened_runs(load_run(run)) == {"F2": runs / "a-hardened", "F7": runs / "a2"}
    text = (reports.build(run).run_dir / "design-review.md").read_text()
    assert "| F7 Worker-Storage down: RPO = 0 | VIOLATED | VIOLATED |" in text and "not fixed yet" in text


def test_builds_are_never_each_others_history(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    hardened_run(runs)
    as_written = as_written_run(runs)
    later = write(runs / "c-hardened", [scenario("F7")], started=T0 + 2000)
    assert previous_run_dir(later) == runs / "a-hardened"  # not the as-written run between them
    assert previous_run_dir(as_written) is None
    assert not (later / "design-review.md").exists() and reports.build(later).exit_code == 0


def test_a_violation_never_hides_an_error_or_an_unjudged_claim(tmp_path: Path) -> None:
    """A scenario is VIOLATED whenever one judgement is; as written that is a finding, but a harness
    error, an unproven fault or an inconclusive judgement beside it still fails the review."""
    runs = tmp_path / "runs"
    errored = scenario("F7", judgements=judgements_for("F7", Verdict.VIOLATED), errors=["heal failed"])
    assert reports.build(write(runs / "e", [errored], build="as-written")).exit_code == 3
    unproven = scenario(
        "F7", judgements=judgements_for("F7", Verdict.VIOLATED), effect=[EffectCheck("fault:F7", False, "not seen")]
    )
    assert reports.build(write(runs / "f", [unproven], build="as-written")).exit_code == 2
    js = [j for j in judgements_for("F7", Verdict.VIOLATED) if not j.claim.startswith("rto")]  # no RTO judged
    partial = scenario("F7", judgements=js, errors=["harness error: probe died"])
    run_dir = write(runs / "g", [partial, scenario("F1")], build="as-written")
    rows = {r.claim: r for r in review(load_run(run_dir), {})}
    assert rows["F7 Worker-Storage down: RTO 60 s"].as_written.verdict is Verdict.HARNESS_ERROR
    assert rows["RTO < 5 minutes for every failure type"].as_written.verdict is Verdict.HARNESS_ERROR
    result = reports.build(run_dir)
    assert result.exit_code == 3 and "not every claim could be judged" in result.summary.read_text()


def test_a_run_with_planted_defects_is_not_the_hardened_column(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    hardened_run(runs)
    planted = write(runs / "a3", [scenario("F7", Verdict.VIOLATED)], started=T0 + 500)
    data = json.loads((planted / "run.json").read_text())
    (planted / "run.json").write_text(json.dumps({**data, "unsafe": "ack_before_wal"}))
    assert latest_hardened_runs(load_run(as_written_run(runs)))["F7"] == runs / "a-hardened"
