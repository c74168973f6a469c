"""Scorecard cells from judgements, the known-false table, and the SVG helpers."""

from __future__ import annotations

from pathlib import Path

from core.claims import claim
from core.verdict import Judgement, Verdict
from reports import plots
from reports.runs import LoadedScenario
from reports.scorecard import Row, known_false, row
from reports.svg import fmt, nice_ticks
from tests.reports.records import judgements_for, scenario


def scored(judgements: list[Judgement], fid: str = "F1") -> Row:
    rec = scenario(fid, judgements=judgements)
    return row(claim(fid), LoadedScenario(fid, rec.verdict, Path("x.json"), rec), None)


def test_detection_cell_from_an_alert_judgement() -> None:
    js = [
        *judgements_for("F1", Verdict.HOLDS),
        Judgement("detection WasteAPIDown", Verdict.HOLDS, 62.0, 90.0, "s", {}),
        Judgement("detection_resolved WasteAPIDown", Verdict.VIOLATED, None, 60.0, "s", {"reason": "still firing"}),
    ]
    r = scored(js)
    assert r.detected.text == "after 62 s" and r.detected.verdict is Verdict.VIOLATED
    assert scored(judgements_for("F1", Verdict.HOLDS)).detected.text == "not measured"


def test_rto_cell_says_not_recovered_and_never_failed() -> None:
    never = Judgement(
        "rto:waste",
        Verdict.INCONCLUSIVE,
        "not exercised",
        30,
        "s",
        {"reason": "not exercised: the capability never failed after the injection"},
    )
    slow = Judgement(
        "rto:pipeline", Verdict.VIOLATED, "not recovered within 120.0 s", 30, "s", {"reference": "last SIGKILL"}
    )
    r = scored([never, slow])
    assert r.rto.text == "not exercised / 30 s" and r.rto.verdict is Verdict.VIOLATED
    assert "never failed (not exercised): rto:waste" in r.rto.note
    assert "measured from last SIGKILL" in r.rto.detail
    assert scored([slow]).rto.text == "not recovered / 30 s"


def test_rpo_and_isolation_cells() -> None:
    rpo = Judgement("upload:rpo", Verdict.VIOLATED, 15, 0, "ops", {"counts": {"lost": 0, "unexpected": 15}})
    chat = Judgement("chat:rpo", Verdict.HOLDS, 0, 0, "ops", {"counts": {"lost": 0}})
    iso = Judgement("isolation", Verdict.VIOLATED, 0.9167, 0.95, "availability", {})
    r = scored([rpo, chat, iso])
    assert r.rpo.text == "15 / 0 ops" and r.rpo.note == "upload: unexpected 15"
    assert r.isolated.text == "min 91.7 %" and r.isolated.verdict is Verdict.VIOLATED
    assert r.exactly_once.text == "not measured"


def test_known_false_comes_from_the_record_and_names_only_violated_judgements() -> None:
    table = {"wal_rows_kept": "drops rows silently"}
    kept = Judgement("wal_rows_kept", Verdict.VIOLATED, 14, 0, "rows", {})
    rec = scenario("F9", judgements=[*judgements_for("F9", Verdict.HOLDS), kept], parameters={"known_false": table})
    loaded = LoadedScenario("F9", rec.verdict, Path("x.json"), rec)
    assert known_false(loaded) == "wal_rows_kept: drops rows silently"
    held = scenario("F9", judgements=judgements_for("F9", Verdict.HOLDS), parameters={"known_false": table})
    assert known_false(LoadedScenario("F9", held.verdict, Path("x.json"), held)) is None
    assert known_false(None) is None


def test_ticks_and_numbers() -> None:
    assert nice_ticks(0, 17.4) == [0, 5, 10, 15, 20]
    assert nice_ticks(0, 1, 5) == [0, 0.5, 1]
    assert nice_ticks(0, 23, 5)[-1] >= 23
    assert [fmt(x) for x in (300.0, 8.839, 14.189, 0.5, 0.0)] == ["300", "8.84", "14.2", "0.5", "0"]


def test_plots_label_axes_with_units_and_survive_empty_records() -> None:
    full = scenario("F1")
    empty = scenario("F1", load=type(full.load)(), probes={}, queue_depth={}, wal_pending={}, ledger={})
    for rec in (full, empty):
        svgs = [
            plots.load_plot(rec),
            plots.probe_plot(rec, frozenset({"waste"})),
            plots.backlog_plot(rec),
            plots.ledger_plot(rec),
        ]
        assert all("time since scenario start (s)" in s for s in svgs[:3])
        assert "requests per second (req/s)" in svgs[0] and "(count)" in svgs[2] and "operations (count)" in svgs[3]
    assert "no load recorded" in plots.load_plot(empty) and "no probes recorded" in plots.probe_plot(empty, frozenset())
    assert "waste *" in plots.probe_plot(full, frozenset({"waste"}))  # the domains allowed to fail are marked
