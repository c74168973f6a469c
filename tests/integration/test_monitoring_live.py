"""Detection against the running stack: the rules are loaded and every metric the dashboard and
the alert rules use is really scraped (a typo'd metric would make a panel empty or an alert mute)."""

from __future__ import annotations

import pytest
from prometheus_client.metrics import MetricWrapperBase

from harness.alerts import alert_rules
from harness.stack import Stack
from harness.wait import until
from system import metrics
from system.monitoring.promql import dashboard_metric_names, metric_names, server_metric_names

pytestmark = pytest.mark.integration



def _labelled_series_of_ours() -> set[str]:
    """Series of our labelled metrics (system/metrics.py): absent until a first label value is used."""
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase) and value._labelnames:
            base = value._name
            names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return names


MAY_BE_ABSENT_WHILE_HEALTHY = _labelled_series_of_ours()


def test_every_dashboard_query_metric_exists_on_the_running_stack(stack: Stack) -> None:
    url = stack.config.url("prometheus")
    wanted = dashboard_metric_names() - MAY_BE_ABSENT_WHILE_HEALTHY
    until(lambda: wanted <= server_metric_names(url), timeout_s=60,
          what=f"every dashboard metric scraped: {sorted(wanted)}")


def test_every_alert_rule_is_loaded_and_its_metrics_exist(stack: Stack) -> None:
    url = stack.config.url("prometheus")
    rules = alert_rules(url)
    assert len(rules) >= 17, sorted(rules)
    used = {m for rule in rules.values() for m in metric_names(str(rule.get("query", "")))}
    wanted = used - MAY_BE_ABSENT_WHILE_HEALTHY
    until(lambda: wanted <= server_metric_names(url), timeout_s=60,
          what=f"every rule metric scraped, missing: {sorted(wanted - server_metric_names(url))}")
