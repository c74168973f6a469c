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

from system.monitoring.known_metrics import rule_problems, scrape_jobs
from system.monitoring.promql import rule_expressions
from system.monitoring.render import Timing, parse_duration, render_all
from tests.monitoring import promtool as pt
from tests.monitoring.alert_table import BY_NAME, table_problems
from tests.monitoring.rule_cases import Case, cases, expected_for_s, load_rules, write_test_files

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


# --- the rules against the hand-written alert table ---------------------------------------


def table_mismatches(rules_dir: Path, timing: Timing) -> list[str]:
    """Every way the rendered rules differ from tests/monitoring/alert_table.py."""
    rules = load_rules(rules_dir)
    out = [f"{name}: rule not in alert_table" for name in sorted(set(rules) - set(BY_NAME))]
    out += [f"{name}: in alert_table, no rule" for name in sorted(set(BY_NAME) - set(rules))]
    for name in sorted(set(rules) & set(BY_NAME)):
        rule, want = rules[name], BY_NAME[name]
        labels = {k: str(v) for k, v in (rule.get("labels") or {}).items()}
        expected = {"severity": want.severity, "failure_point": want.failure_point}
        if want.domain_by is None:
            expected["domain"] = want.domain
        elif "{{" not in labels.get("domain", ""):  # per-sample domain: its values are promtool's to check
            out.append(f"{name}: domain {labels.get('domain')!r}, alert_table: depends on {want.domain_by[0]}")
        for key, value in expected.items():
            if labels.get(key) != value:
                out.append(f"{name}: {key} {labels.get(key)!r}, alert_table {value!r}")
        got_for = parse_duration(str(rule.get("for", "0s")))
        want_for = expected_for_s(name, timing)
        if abs(got_for - want_for) > 1e-6:
            out.append(f"{name}: for {got_for:g}s, alert_table {want.for_} = {want_for:g}s at scale {timing.scale}")
    return out


def test_alert_table_is_consistent() -> None:
    assert table_problems() == []


def test_rule_files_and_alert_table_list_the_same_alerts() -> None:
    assert len(ALERTS) == 26
    assert sorted(BY_NAME) == ALERTS


@pytest.mark.parametrize("scale", SCALES)
def test_rules_match_alert_table(rendered: dict[float, Rendered], scale: float) -> None:
    """Severity, failure point, domain and `for` of every rule, against the hand-written table."""
    assert table_mismatches(rendered[scale].dir / "rules", Timing.for_scale(scale)) == []


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
    claims = pytest.importorskip("core.claims")
    missing = {c.fid: c.alert for c in claims.all_claims() if c.alert not in ALERTS}
    assert missing == {}, "core/claims.py names alerts that no rule defines"


# --- every rule can fire: its metrics exist ------------------------------------------------


@pytest.mark.parametrize("scale", SCALES)
def test_every_rule_reads_existing_metrics_and_jobs(rendered: dict[float, Rendered], scale: float) -> None:
    d = rendered[scale].dir
    problems = rule_problems(sorted((d / "rules").glob("*.yml")), scrape_jobs(d / "prometheus.yml"))
    assert problems == []


def _planted_copy(src: Path, dst: Path, find: str, replace: str, file: str = "api.yml") -> Path:
    shutil.copytree(src, dst)
    path = dst / "rules" / file
    text = path.read_text()
    assert text.count(find) == 1, f"{find!r} in {file}"
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


# A broken rule, one line changed: the test files are generated again from the broken rules (as
# they would be in CI), and must still expect the table's values, so promtool fails; and the
# direct comparison with the table reports it.
PLANTED_BREAKS = {
    "severity": (
        "api.yml",
        "AuthAPIDown",
        "{severity: critical, failure_point: F2, domain: auth}",
        "{severity: warning, failure_point: F2, domain: auth}",
        "AuthAPIDown: severity 'warning', alert_table 'critical'",
    ),
    "domain": (
        "database.yml",
        "WasteDBDown",
        "{severity: critical, failure_point: F11, domain: waste}",
        "{severity: critical, failure_point: F11, domain: auth}",
        "WasteDBDown: domain 'auth', alert_table 'waste'",
    ),
    "failure_point": (
        "worker.yml",
        "WorkerAIDown",
        "{severity: critical, failure_point: F8, domain: pipeline}",
        "{severity: critical, failure_point: F7, domain: pipeline}",
        "WorkerAIDown: failure_point 'F7', alert_table 'F8'",
    ),
    "for": (
        "queue.yml",
        "RabbitMQDown",
        "for: 2400ms\n        labels: {severity: critical, failure_point: F4",
        "for: 1200ms\n        labels: {severity: critical, failure_point: F4",
        "RabbitMQDown: for 1.2s, alert_table 2m = 2.4s at scale 0.02",
    ),
    "summary": ("api.yml", "WasteAPIDown", 'summary: "waste-api is down', 'summary: "auth-api is down', None),
}


@pytest.mark.controls
@pytest.mark.parametrize("kind", sorted(PLANTED_BREAKS))
def test_planted_wrong_rule_fails_against_alert_table(
    rendered: dict[float, Rendered], tmp_path: Path, kind: str
) -> None:
    _need_promtool()
    file, alert, find, replace, mismatch = PLANTED_BREAKS[kind]
    r = rendered[0.02]
    d = _planted_copy(r.dir, tmp_path / kind, find, replace, file)
    assert table_mismatches(d / "rules", Timing.for_scale(0.02)) == ([mismatch] if mismatch else [])
    paths = write_test_files(d, r.interval_s)
    res = pt.promtool(["test", "rules", str(paths[alert].relative_to(d))], d)
    assert res.returncode != 0, res.output
    assert "FAILED" in res.output and f"{alert}: fires" in res.output, res.output[:3000]
    # another alert of the same broken file still passes: what fails is the planted change
    same_file = sorted(n for n, p in _alerts_by_file(d).items() if p == file and n != alert)
    ok = pt.promtool(["test", "rules", str(paths[same_file[0]].relative_to(d))], d)
    assert ok.returncode == 0 and "SUCCESS" in ok.output, ok.output[:3000]


def _alerts_by_file(d: Path) -> dict[str, str]:
    """Alert name -> the rendered rule file (base name) that defines it."""
    return {
        rule["alert"]: path.name
        for path in sorted((d / "rules").glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


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
