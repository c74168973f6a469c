"""Detection against the running stack: every alert of the independent alert table is loaded, and
every metric the dashboard and the alert rules use is really scraped (a typo'd metric would make a
panel empty or an alert mute)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from prometheus_client.metrics import MetricWrapperBase

from faults.wait import until
from harness.alerts import alert_rules
from harness.probes import ProbeUser
from harness.stack import Stack
from load.images import tiny_png
from system import metrics
from system.monitoring.promql import dashboard_metric_names, metric_names, server_metric_names
from tests.monitoring.alert_table import BY_NAME

pytestmark = pytest.mark.integration


def _series(*wrappers: MetricWrapperBase) -> set[str]:
    names: set[str] = set()
    for w in wrappers:
        base = next(iter(w.describe())).name  # the family name, without _total
        names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return names


# Named one by one, each with its reason: only these may be missing from a healthy stack that has
# carried one upload. Everything else (worker_consumer_up above all: the worker alerts read it) must be
# scraped.
MAY_BE_ABSENT_WHILE_HEALTHY = _series(
    metrics.WAL_RECOVERED,  # labelled by action: appears once a restart's recovery handled a row
)


@pytest.fixture(scope="module")
def carried_one_upload(stack: Stack) -> None:
    """One upload through all four stages, so the per-stage and per-route series exist."""
    user = ProbeUser(stack.config)
    base = stack.config.url("waste-api")
    task_id = f"monitoring-live-{uuid.uuid4().hex}"
    r = httpx.post(
        f"{base}/tasks",
        headers=user.headers,
        data={"task_id": task_id},
        files={"image": ("x.png", tiny_png((7, 0, 7)), "image/png")},
        timeout=10,
    )
    assert r.status_code == 202, r.text

    def done() -> bool:
        body = httpx.get(f"{base}/tasks/{task_id}", headers=user.headers, timeout=5).json()
        return bool(body.get("status") == "completed")

    until(done, timeout_s=60, what="the probe upload completed")


def test_every_dashboard_query_metric_exists_on_the_running_stack(stack: Stack, carried_one_upload: None) -> None:
    url = stack.config.url("prometheus")
    wanted = dashboard_metric_names() - MAY_BE_ABSENT_WHILE_HEALTHY
    until(
        lambda: wanted <= server_metric_names(url),
        timeout_s=60,
        what=f"every dashboard metric scraped, missing: {sorted(wanted - server_metric_names(url))}",
    )


def test_every_alert_of_the_table_is_loaded_and_its_metrics_exist(stack: Stack, carried_one_upload: None) -> None:
    url = stack.config.url("prometheus")
    rules = alert_rules(url)
    assert set(rules) == set(BY_NAME), {
        "not loaded": sorted(set(BY_NAME) - set(rules)),
        "not in the table": sorted(set(rules) - set(BY_NAME)),
    }
    used = {m for rule in rules.values() for m in metric_names(str(rule.get("query", "")))}
    assert "worker_consumer_up" in used
    wanted = used - MAY_BE_ABSENT_WHILE_HEALTHY
    until(
        lambda: wanted <= server_metric_names(url),
        timeout_s=60,
        what=f"every rule metric scraped, missing: {sorted(wanted - server_metric_names(url))}",
    )
