"""The claims lint on hand-made claims and rules: sets that must pass and sets that must fail."""

from __future__ import annotations

import pytest

from core.claims import Claim, claim
from harness.lint import (
    AlertWindow,
    LintRow,
    Policy,
    alert_row,
    design_window,
    lint,
    policy_rows,
    seconds,
    spec_sync_give_up_s,
    window,
)
from harness.lint_inputs import run_lint


def crash(rto_s: float | None, detection: str | None = None, rto_from: str = "injection") -> Claim:
    return Claim(
        "F1",
        "x down",
        "api",
        "crash:x",
        rto_s,
        rto_from,  # type: ignore[arg-type]
        frozenset({"waste"}),
        "XDown",
        "spec",
        detection=detection,
    )


def test_durations() -> None:
    assert [seconds(d) for d in ("1m30s", "90s", "500ms", "2h", "5m")] == [90, 90, 0.5, 7200, 300]
    for bad in ("", "1x", "m", "1m 2s"):
        with pytest.raises(ValueError, match="not a duration"):
            seconds(bad)


def test_a_window_reads_for_and_the_longest_range() -> None:
    w = window("A", "ours", "rate(e[5m]) > 0.5 and increase(f[1m]) > 0", "2m", 15, 15)
    assert (w.alert, w.source, w.for_s, w.range_s, w.earliest_s, w.latest_s) == ("A", "ours", 120, 300, 120, 450)
    assert window("B", "ours", "up == 0", "", 1, 2).latest_s == 3


def test_the_design_expression_is_split_at_for_and_scaled() -> None:
    w = design_window(crash(30, 'up{job="x"} == 0 for 1m'), 0.5, 1, 1)
    assert w is not None and (w.expr, w.for_s, w.range_s) == ('up{job="x"} == 0', 30, 0)
    assert design_window(crash(30), 1, 1, 1) is None
    bare = design_window(crash(30, "rate(e[2m]) > 1"), 1, 1, 1)
    assert bare is not None and (bare.for_s, bare.range_s) == (0, 120)


@pytest.mark.parametrize(
    "for_s, rto_s, verdict",
    [
        (60, 30, "undecidable"),  # the design's F1: up == 0 for 1m against a 30 s RTO
        (30.5, 30, "undecidable"),
        (29, 30, "depends"),  # may fire, may not: scrape and evaluation push it past 30 s
        (10, 30, "ok"),  # fires within 10 + 5 + 5 = 20 s
        (10, 20, "ok"),  # exactly at the RTO
    ],
)
def test_alert_against_an_injection_rto(for_s: float, rto_s: float, verdict: str) -> None:
    w = AlertWindow("XDown", "ours", "up == 0", for_s, 0, 5, 5)
    assert alert_row(crash(rto_s), w).verdict == verdict


def test_a_heal_measured_claim_never_makes_the_alert_undecidable() -> None:
    w = AlertWindow("XDown", "ours", "up == 0", 600, 0, 5, 5)
    row = alert_row(crash(None, rto_from="heal"), w)
    assert row.verdict == "ok" and row.needed_s == (600, 610)


def test_a_claim_without_a_rule_is_undecidable() -> None:
    rows = lint([crash(30)], {}, 1.0, 15, 15)
    assert [(r.source, r.verdict) for r in rows] == [("ours", "undecidable")]
    assert "no rule named XDown" in rows[0].text


def test_the_spec_sync_schedule_and_the_policies() -> None:
    assert spec_sync_give_up_s(60, 5, 300, 10) == 3060  # 0, 60, 180, 420, 900, 1860, then every 300 s
    assert spec_sync_give_up_s(60, 5, 300, 3) == 180
    p = Policy("gives up", ("F1",), 3060, "stops")
    assert [r.verdict for r in policy_rows([p], {"F1": crash(300)}, 1.0)] == ["latent"]
    assert [r.verdict for r in policy_rows([p], {"F1": crash(300)}, 0.02)] == ["ok"]  # 61.2 s
    assert [r.verdict for r in policy_rows([p], {"F1": crash(None, rto_from="heal")}, 1.0)] == ["ok"]


def test_the_design_as_written_is_flagged_and_the_suite_scale_is_not() -> None:
    as_written = {(r.fid, r.source): r.verdict for r in run_lint(1.0) if r.check == "alert vs RTO"}
    assert as_written[("F1", "design")] == as_written[("F7", "design")] == "undecidable"
    assert as_written[("F4", "design")] == "undecidable"  # rabbitmq_up: exported by nothing
    assert as_written[("F4", "ours")] == "depends"
    suite = run_lint(0.02)
    flagged = [(r.fid, r.source) for r in suite if r.verdict in ("undecidable", "depends")]
    assert flagged == [("F4", "design")], suite  # at the suite's scale only the metric nobody exports
    assert claim("F1").rto_s == 30  # the lint's premise: RTO claims are not scaled


def test_a_rule_on_a_metric_nobody_exports_is_undecidable_whatever_its_window() -> None:
    w = AlertWindow("XDown", "design", "rabbitmq_up == 0", 1, 0, 1, 1)
    rows = lint([crash(300)], {"XDown": w}, 1.0, 1, 1, exported=frozenset({"up"}))
    assert [(r.verdict, r.text) for r in rows] == [
        ("undecidable", "XDown reads rabbitmq_up, which no target exports: it can never fire")
    ]
    assert [r.verdict for r in lint([crash(300)], {"XDown": w}, 1.0, 1, 1)] == ["ok"]  # not asked: not judged
    exported = frozenset({"up", "rabbitmq_up"})
    assert [r.verdict for r in lint([crash(300)], {"XDown": w}, 1.0, 1, 1, exported=exported)] == ["ok"]
    # one selector that exists is enough for an `or` to fire
    either = AlertWindow("XDown", "design", "rabbitmq_up == 0 or up == 0", 1, 0, 1, 1)
    assert [r.verdict for r in lint([crash(300)], {"XDown": either}, 1.0, 1, 1, exported=frozenset({"up"}))] == ["ok"]


# Whole rows, texts included: what a reader of the lint table sees is the product.
W = AlertWindow("XDown", "ours", "up == 0", 10.12345, 0, 5, 5)


def test_each_alert_row_in_full() -> None:
    assert alert_row(crash(30), W) == LintRow(
        "F1", "alert vs RTO", "ours", 30, (10.123, 20.123), "ok", "XDown fires within 20.123 s, inside the 30 s RTO"
    )
    assert alert_row(crash(15), W) == LintRow(
        "F1",
        "alert vs RTO",
        "ours",
        15,
        (10.123, 20.123),
        "depends",
        "XDown fires 10.123-20.123 s in: it may miss an outage that meets the 15 s RTO",
    )
    assert alert_row(crash(8), W) == LintRow(
        "F1",
        "alert vs RTO",
        "ours",
        8,
        (10.123, 20.123),
        "undecidable",
        "XDown needs at least 10.123 s, the claim allows 8 s of outage: an outage that meets the RTO is never "
        "alerted on, and an alert means the RTO was missed",
    )
    assert alert_row(crash(None, rto_from="heal"), W) == LintRow(
        "F1",
        "alert vs RTO",
        "ours",
        300,
        (10.123, 20.123),
        "ok",
        "XDown fires 10.123-20.123 s into the outage; the RTO runs from heal",
    )


def test_each_policy_row_in_full() -> None:
    p = Policy("gives up", ("F1",), 100.12345, "stops")
    assert policy_rows([p], {"F1": crash(60)}, 1.0) == [
        LintRow(
            "F1",
            "gives up",
            "design",
            60,
            (100.123, 100.123),
            "latent",
            "stops only after 100.123 s of outage; the claim allows 60 s, so a run that honours it cannot show the "
            "loss: an outage over 100.123 s does",
        )
    ]
    assert policy_rows([p], {"F1": crash(100.123)}, 1.0)[0].verdict == "ok"  # exactly the RTO: it can show
    assert policy_rows([p], {"F1": crash(300)}, 0.5) == [
        LintRow(
            "F1",
            "gives up",
            "design",
            300,
            (50.062, 50.062),
            "ok",
            "stops after 50.062 s, within the 300 s a claimed outage may last",
        )
    ]
    assert policy_rows([p], {"F1": crash(None, rto_from="heal")}, 1.0) == [
        LintRow(
            "F1",
            "gives up",
            "design",
            300,
            (100.123, 100.123),
            "ok",
            "stops once the outage outlasts 100.123 s; the RTO runs from heal, so only a fault held over 100.123 s "
            "shows it",
        )
    ]


def test_lint_puts_the_design_row_before_ours_and_names_a_missing_rule() -> None:
    c = crash(30, 'rate(e{why="wait for it"}[2m]) > 0 for 1m')
    rows = lint([c], {"XDown": W}, 0.5, 3, 4, [Policy("gives up", ("F1",), 10, "stops")])
    design, ours, policy = rows
    assert (design.source, design.needed_s, design.text.split(" ")[0]) == ("design", (30, 97), "XDown")
    assert ours == alert_row(c, W) and policy.check == "gives up"
    w = design_window(c, 0.5, 3, 4)
    assert w is not None and (w.alert, w.expr) == ("XDown", 'rate(e{why="wait for it"}[2m]) > 0')
    [missing] = lint([crash(30)], {}, 1.0, 15, 15)
    assert missing == LintRow(
        "F1",
        "alert vs RTO",
        "ours",
        30,
        (0.0, 0.0),
        "undecidable",
        "no rule named XDown: the failure cannot be detected as claimed",
    )


def test_the_sync_schedule_at_its_edges() -> None:
    assert [spec_sync_give_up_s(60, 5, 300, n) for n in (1, 2, 6, 7, 8)] == [0, 60, 1860, 2160, 2460]
    assert spec_sync_give_up_s(10, 0, 7, 3) == 14
