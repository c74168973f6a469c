"""Prometheus config and alert rules: promtool checks and unit tests at two time scales,
every rule's metrics exist, and planted defects (a rule that can never fire) are caught."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from system.monitoring.promql import rule_expressions
from system.monitoring.render import render_all
from tests.monitoring import promtool as pt
from tests.monitoring.known_metrics import rule_problems, scrape_jobs
from tests.monitoring.rule_cases import Case, cases, load_rules, write_test_files

SCALES = (1.0, 0.02)
REPO = Path(__file__).resolve().parents[2]
DOMAINS = {"waste", "pipeline", "auth", "userinfo", "location", "recycle", "chat"}


def _alert_names() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        render_all(1.0, Path(tmp))
        return sorted(load_rules(Path(tmp) / "rules"))


ALERTS = _alert_names()


@dataclass
class Rendered:
    scale: float
    dir: Path
    interval_s: float
    test_files: dict[str, Path]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Rendered]:
    out: dict[float, Rendered] = {}
    for scale in SCALES:
        d = tmp_path_factory.mktemp(f"scale-{scale}")
        timing = render_all(scale, d)
        out[scale] = Rendered(scale, d, timing.evaluation_interval_s, write_test_files(d, timing.evaluation_interval_s))
    return out


def _need_promtool() -> None:
    if pt.backend() is None:
        pytest.skip(f"no {pt.IMAGE} image (scripts/setup.sh builds it) and no host promtool")


@pytest.fixture(scope="session")
def unit_results(rendered: dict[float, Rendered]) -> dict[float, dict[str, pt.Result]]:
    """promtool test rules for every alert's file, per scale: file name -> result."""
    _need_promtool()
    results = {}
    for scale, r in rendered.items():
        files = sorted(str(p.relative_to(r.dir)) for p in r.test_files.values())
        results[scale] = pt.test_rules_each(files, r.dir)
    return results


# --- rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_rendered_files_have_no_placeholders_left(rendered: dict[float, Rendered], scale: float) -> None:
    r = rendered[scale]
    for path in [r.dir / "prometheus.yml", *sorted((r.dir / "rules").glob("*.yml"))]:
        text = path.read_text()
        assert "${" not in text, path
        yaml.safe_load(text)


def test_scale_changes_durations(rendered: dict[float, Rendered]) -> None:
    slow = load_rules(rendered[1.0].dir / "rules")
    fast = load_rules(rendered[0.02].dir / "rules")
    assert slow["WasteAPIDown"]["for"] == "60s" and fast["WasteAPIDown"]["for"] == "1200ms"
    assert slow["GPT5APIDown"]["expr"] == "rate(gpt5_api_errors_total[300s]) > 0.5"
    assert fast["GPT5APIDown"]["expr"] == "rate(gpt5_api_errors_total[6s]) > 0.5"
    cfg = yaml.safe_load((rendered[0.02].dir / "prometheus.yml").read_text())
    assert cfg["global"]["scrape_interval"] == "1s"
    assert cfg["global"]["evaluation_interval"] == "1s"


# --- promtool ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_promtool_check_config(rendered: dict[float, Rendered], scale: float) -> None:
    _need_promtool()
    res = pt.promtool(["check", "config", "prometheus.yml"], rendered[scale].dir)
    assert res.returncode == 0, res.output
    assert "SUCCESS" in res.output


@pytest.mark.parametrize("scale", SCALES)
def test_promtool_check_rules(rendered: dict[float, Rendered], scale: float) -> None:
    _need_promtool()
    d = rendered[scale].dir
    files = sorted(str(p.relative_to(d)) for p in (d / "rules").glob("*.yml"))
    res = pt.promtool(["check", "rules", *files], d)
    assert res.returncode == 0, res.output
    assert res.output.count("SUCCESS") == len(files)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("alert", ALERTS)
def test_promtool_unit_tests(
    rendered: dict[float, Rendered], unit_results: dict[float, dict[str, pt.Result]], scale: float, alert: str
) -> None:
    path = rendered[scale].test_files.get(alert)
    assert path is not None, f"no promtool test for {alert}"
    res = unit_results[scale][path.name]
    if res.returncode != 0 or "SUCCESS" not in res.output:
        pytest.fail(f"promtool unit tests of {alert} at scale {scale} failed:\n{res.output[:6000]}")


def test_every_alert_has_a_firing_case() -> None:
    firing = {c.alert for c in cases() if isinstance(c, Case)}
    assert set(ALERTS) - firing == set(), "alerts without a test that makes them fire"
    assert firing - set(ALERTS) == set(), "cases for alerts that do not exist"


# --- labels and the F -> alert map ---------------------------------------------------------


def test_every_alert_has_severity_failure_point_domain() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        render_all(1.0, Path(tmp))
        rules = load_rules(Path(tmp) / "rules")
    templated_domains = {c.alert: c.templated.get("domain") for c in cases() if isinstance(c, Case)}
    for name, rule in rules.items():
        labels = rule.get("labels") or {}
        assert labels.get("severity") in {"critical", "warning"}, name
        assert re.fullmatch(r"F([1-9]|1[0-7])|none", str(labels.get("failure_point"))), name
        domain = str(labels.get("domain"))
        if "{{" in domain:
            assert templated_domains.get(name) in DOMAINS, f"{name}: templated domain untested"
        else:
            assert domain in DOMAINS, f"{name}: domain {domain!r}"


def _doc_f_table() -> dict[str, str]:
    text = (REPO / "docs" / "monitoring.md").read_text()
    table = {}
    for m in re.finditer(r"^\|\s*(F\d+)\s*\|[^|]*\|\s*`?(\w+)`?\s*\|", text, re.M):
        table[m.group(1)] = m.group(2)
    return table


def test_docs_map_every_failure_point_to_an_existing_alert() -> None:
    table = _doc_f_table()
    assert sorted(table, key=lambda f: int(f[1:])) == [f"F{i}" for i in range(1, 18)]
    with tempfile.TemporaryDirectory() as tmp:
        render_all(1.0, Path(tmp))
        rules = load_rules(Path(tmp) / "rules")
    for fid, alert in table.items():
        assert alert in rules, f"{fid}: {alert} is not a rule"
        assert rules[alert]["labels"]["failure_point"] == fid, f"{fid}: {alert} is labelled otherwise"


def test_claims_name_existing_alerts() -> None:
    claims = pytest.importorskip("harness.claims")
    missing = {c.fid: c.alert for c in claims.all_claims() if c.alert not in ALERTS}
    assert missing == {}, "harness/claims.py names alerts that no rule defines"


# --- every rule can fire: its metrics exist ------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_every_rule_reads_existing_metrics_and_jobs(rendered: dict[float, Rendered], scale: float) -> None:
    d = rendered[scale].dir
    problems = rule_problems(sorted((d / "rules").glob("*.yml")), scrape_jobs(d / "prometheus.yml"))
    assert problems == []


def _planted_copy(src: Path, dst: Path, find: str, replace: str) -> Path:
    shutil.copytree(src, dst)
    path = dst / "rules" / "api.yml"
    text = path.read_text()
    assert find in text
    path.write_text(text.replace(find, replace, 1))
    return dst


@pytest.mark.controls
def test_planted_typo_metric_is_reported(rendered: dict[float, Rendered], tmp_path: Path) -> None:
    d = _planted_copy(rendered[0.02].dir, tmp_path / "typo", 'expr: up{job="waste-api"}', 'expr: upp{job="waste-api"}')
    problems = rule_problems(sorted((d / "rules").glob("*.yml")), scrape_jobs(d / "prometheus.yml"))
    assert problems == ["WasteAPIDown: metric 'upp' is exposed by no target"]


@pytest.mark.controls
def test_planted_typo_job_is_reported(rendered: dict[float, Rendered], tmp_path: Path) -> None:
    d = _planted_copy(rendered[0.02].dir, tmp_path / "job", 'up{job="auth-api"}', 'up{job="auth_api"}')
    problems = rule_problems(sorted((d / "rules").glob("*.yml")), scrape_jobs(d / "prometheus.yml"))
    assert problems == ["AuthAPIDown: job 'auth_api' is not scraped"]


@pytest.mark.controls
def test_planted_typo_metric_fails_promtool_unit_test(rendered: dict[float, Rendered], tmp_path: Path) -> None:
    """The same defect is caught a second way: the rule's 'fires' test fails."""
    _need_promtool()
    d = _planted_copy(rendered[0.02].dir, tmp_path / "typo", 'expr: up{job="waste-api"}', 'expr: upp{job="waste-api"}')
    res = pt.promtool(["test", "rules", "tests/WasteAPIDown.test.yml"], d)
    assert res.returncode != 0
    assert "FAILED" in res.output and "WasteAPIDown: fires" in res.output


def test_rule_expressions_are_all_read() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        render_all(1.0, Path(tmp))
        names = [n for n, _ in rule_expressions(sorted((Path(tmp) / "rules").glob("*.yml")))]
    assert sorted(names) == ALERTS


def test_timing_json_written(rendered: dict[float, Rendered]) -> None:
    timing = json.loads((rendered[0.02].dir / "timing.json").read_text())
    assert timing["scrape_interval_s"] == 1.0 and timing["pg_scrape_interval_s"] == 2.0
