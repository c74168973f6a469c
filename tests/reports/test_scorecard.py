"""Scorecard cells from judgements, the known-false table, and the SVG helpers."""

from __future__ import annotations

from pathlib import Path

from harness.claims import claim
from harness.verdict import Judgement, Verdict
from reports import plots
from reports.known_false import known_false
from reports.runs import LoadedScenario
from reports.scorecard import Row, row
from reports.svg import fmt, nice_ticks
from tests.reports.records import judgements_for, scenario


def scored(judgements: list[Judgement], fid: str = "F1") -> Row:
    rec = scenario(fid, judgements=judgements)
    return row(claim(fid), LoadedScenario(fid, rec.verdict, Path("x.json"), rec), None)


def test_detection_cell_from_an_alert_judgement() -> None:
    js = [*judgements_for("F1", Verdict.HOLDS),
          Judgement("detection WasteAPIDown", Verdict.HOLDS, 62.0, 90.0, "s", {}),
          Judgement("detection_resolved WasteAPIDown", Verdict.VIOLATED, None, 60.0, "s", {"reason": "still firing"})]
    r = scored(js)
    assert r.detected.text == "after 62 s" and r.detected.verdict is Verdict.VIOLATED
    assert scored(judgements_for("F1", Verdict.HOLDS)).detected.text == "not measured"


def test_rto_cell_says_not_recovered_and_never_failed() -> None:
    never = Judgement("rto:waste", Verdict.HOLDS, 0.0, 30, "s", {"note": "the fault did not take effect on this "
                                                                         "capability (it never failed)"})
    slow = Judgement("rto:pipeline", Verdict.VIOLATED, "not recovered within 120.0 s", 30, "s", {})
    r = scored([never, slow])
    assert r.rto.text == "not recovered / 30 s" and r.rto.verdict is Verdict.VIOLATED
    assert "never failed: rto:waste" in r.rto.note


def test_rpo_and_isolation_cells() -> None:
    rpo = Judgement("upload:rpo", Verdict.VIOLATED, 15, 0, "ops", {"counts": {"lost": 0, "unexpected": 15}})
    chat = Judgement("chat:rpo", Verdict.HOLDS, 0, 0, "ops", {"counts": {"lost": 0}})
    iso = Judgement("isolation", Verdict.VIOLATED, 0.9167, 0.95, "availability", {})
    r = scored([rpo, chat, iso])
    assert r.rpo.text == "15 / 0 ops" and r.rpo.note == "upload: unexpected 15"
    assert r.isolated.text == "min 91.7 %" and r.isolated.verdict is Verdict.VIOLATED
    assert r.exactly_once.text == "not measured"


def test_known_false_is_read_from_the_catalogue_source(tmp_path: Path) -> None:
    src = tmp_path / "catalogue.py"
    src.write_text('import os\nKNOWN_FALSE: dict[str, str] = {\n    "F9": "drops rows "\n    "silently",\n}\n')
    assert known_false(src) == {"F9": "drops rows silently"}
    assert known_false(tmp_path / "missing.py") == {}


def test_ticks_and_numbers() -> None:
    assert nice_ticks(0, 17.4) == [0, 5, 10, 15, 20]
    assert nice_ticks(0, 1, 5) == [0, 0.5, 1]
    assert nice_ticks(0, 23, 5)[-1] >= 23
    assert [fmt(x) for x in (300.0, 8.839, 14.189, 0.5, 0.0)] == ["300", "8.84", "14.2", "0.5", "0"]


def test_plots_label_axes_with_units_and_survive_empty_records() -> None:
    full = scenario("F1")
    empty = scenario("F1", load=type(full.load)(), probes={}, queue_depth={}, wal_pending={}, ledger={})
    for rec in (full, empty):
        svgs = [plots.load_plot(rec), plots.probe_plot(rec, frozenset({"waste"})), plots.backlog_plot(rec),
                plots.ledger_plot(rec)]
        assert all("time since scenario start (s)" in s for s in svgs[:3])
        assert "requests per second (req/s)" in svgs[0] and "(count)" in svgs[2] and "operations (count)" in svgs[3]
    assert "no load recorded" in plots.load_plot(empty) and "no probes recorded" in plots.probe_plot(empty, frozenset())
    assert "waste *" in plots.probe_plot(full, frozenset({"waste"}))  # the domains allowed to fail are marked
