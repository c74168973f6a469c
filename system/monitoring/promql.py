"""Metric names referenced by PromQL expressions (alert rules, dashboard queries).

A rule or a panel whose metric does not exist never fires and never shows anything, and
Prometheus accepts it silently. These helpers list what an expression reads so that a test can
compare it with the names the system and the exporters really expose (tests/monitoring), and a
later test can compare the dashboard with a running Prometheus (`dashboard_metric_names`).

No PromQL parser is used: strings, label matchers, ranges and grouping clauses are removed,
then every remaining identifier that is not a function, an operator keyword or an aggregation
is a metric name. Good for the expressions of this project (tested), not a general parser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_KEYWORDS = frozenset(
    {
        # aggregation operators
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
        "bottomk", "topk", "quantile",
        # binary/set operators and modifiers
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
        "bool", "offset", "atan2",
        # literals
        "inf", "nan",
    }
)  # fmt: skip

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_AT = re.compile(r"@\s*(?:start\(\)|end\(\)|[0-9.]+)")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
_NAME_MATCHER = re.compile(r"""__name__\s*=\s*["']([a-zA-Z_:][a-zA-Z0-9_:]*)["']""")
_JOB_MATCHER = re.compile(r"""\bjob\s*=\s*["']([^"']+)["']""")


def metric_names(expr: str) -> set[str]:
    """Names of the metrics an expression selects (e.g. `rate(x_total[5m]) > 0` -> {x_total})."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _AT.sub(" ", text)
    for m in _IDENT.finditer(text):
        ident, call = m.group(1), m.group(2)
        if call or ident.lower() in _KEYWORDS:
            continue  # a function call, an aggregation with its parenthesis, or an operator
        if re.fullmatch(r"[0-9a-fA-Fx]+", ident) and ident[0].isdigit():
            continue
        names.add(ident)
    return names


def job_matchers(expr: str) -> set[str]:
    """Values of `job="..."` equality matchers in an expression."""
    return set(_JOB_MATCHER.findall(expr))


def rule_expressions(rule_files: Iterable[Path]) -> Iterator[tuple[str, str]]:
    """(alert or record name, expr) of every rule in rendered Prometheus rule files (needs PyYAML)."""
    import yaml

    for path in rule_files:
        doc = yaml.safe_load(Path(path).read_text()) or {}
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                yield str(rule.get("alert") or rule.get("record")), str(rule["expr"])


def dashboard_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, rows' nested panels included."""
    out: list[tuple[str, str]] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    out.append((str(panel.get("title", "")), str(target["expr"])))
            walk(panel.get("panels", []))

    walk(dashboard.get("panels", []))
    for var in dashboard.get("templating", {}).get("list", []):
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if isinstance(query, str) and query.startswith(("label_values(", "query_result(")):
            inner = query[query.index("(") + 1 : query.rindex(")")]
            out.append((f"variable {var.get('name')}", inner.rsplit(",", 1)[0] if "label_values" in query else inner))
    return out


def dashboard_metric_names(path: Path | str | None = None) -> set[str]:
    """Every metric name the Grafana dashboard's queries read (default: system/monitoring/dashboard.json)."""
    path = Path(path) if path else Path(__file__).resolve().parent / "dashboard.json"
    dashboard = json.loads(path.read_text())
    names: set[str] = set()
    for _title, expr in dashboard_queries(dashboard):
        names |= metric_names(expr)
    return names


def server_metric_names(url: str, timeout: float = 10.0) -> set[str]:
    """Metric names a running Prometheus has series for (/api/v1/label/__name__/values)."""
    import requests

    response = requests.get(f"{url.rstrip('/')}/api/v1/label/__name__/values", timeout=timeout)
    response.raise_for_status()
    return set(response.json()["data"])
