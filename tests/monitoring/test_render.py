"""render.py: durations and the time-scale arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from system.monitoring.render import Timing, format_duration, parse_duration, render_all, render_text


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("1m", 60), ("1h30m", 5400), ("250ms", 0.25), ("2", 2)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "1x", "m5", "1m 5s"])
def test_parse_duration_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration() -> None:
    assert format_duration(60) == "60s"
    assert format_duration(1.2) == "1200ms"
    assert format_duration(0) == "0s"
    assert format_duration(0.0001) == "1ms"


def test_timing_at_production_scale() -> None:
    t = Timing.for_scale(1.0)
    assert (t.scrape_interval_s, t.evaluation_interval_s, t.scrape_timeout_s) == (15, 15, 10)
    assert (t.pg_scrape_interval_s, t.pg_scrape_timeout_s) == (15, 10)
    assert t.for_s(60) == 60 and t.range_s(300) == 300 and t.backlog_s(300) == 300


def test_timing_at_suite_scale() -> None:
    t = Timing.for_scale(0.02)
    assert (t.scrape_interval_s, t.scrape_timeout_s) == (1, 0.8)
    assert (t.pg_scrape_interval_s, t.pg_scrape_timeout_s) == (2, 1.6)
    assert t.for_s(60) == 1.2 and t.for_s(120) == 2.4 and t.for_s(0) == 0
    assert t.range_s(300) == 6
    assert t.backlog_s(300) == 30  # floor: the work the backlog waits on is not scaled
    assert Timing.for_scale(0.001).for_s(60) == 1.0  # floor: one evaluation interval
    assert Timing.for_scale(0.001).range_s(300) == 4.0  # floor: four scrapes
    assert Timing.for_scale(0.5).scrape_interval_s == 7.5


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_timing_rejects_bad_scale(bad: float) -> None:
    with pytest.raises(ValueError):
        Timing.for_scale(bad)


def test_render_text_placeholders_and_go_templates() -> None:
    t = Timing.for_scale(0.05)
    out = render_text("for: ${for:2m} r=${range:5m} b=${backlog:5m} s=${seconds:1m} k=${scale} {{ $labels.job }}", t)
    assert out == "for: 6s r=15s b=30s s=3 k=0.05 {{ $labels.job }}"
    with pytest.raises(ValueError):
        render_text("${nope}", t)


def test_the_design_rule_set_is_the_document_s_five_rules_verbatim(tmp_path: Path) -> None:
    render_all(0.02, tmp_path / "design", rules="design")
    doc = yaml.safe_load((tmp_path / "design" / "rules" / "design.yml").read_text())
    rules = {r["alert"]: (r["expr"], r["for"]) for g in doc["groups"] for r in g["rules"]}
    assert rules == {
        "WasteAPIDown": ('up{job="waste-api"} == 0', "1200ms"),
        "RabbitMQDown": ("rabbitmq_up == 0", "2400ms"),
        "WorkerStorageDown": ('up{job="worker-storage"} == 0', "2400ms"),
        "WasteDBDown": ('pg_up{database="ecoeco_waste"} == 0', "1200ms"),
        "GPT5APIDown": ("rate(gpt5_api_errors_total[6s]) > 0.5", "6s"),
    }
    render_all(0.02, tmp_path / "ours")
    assert not (tmp_path / "ours" / "rules" / "design.yml").exists()
    with pytest.raises(ValueError, match="unknown rule set"):
        render_all(0.02, tmp_path / "x", rules="mine")
