"""Metric-name extraction from PromQL (used against rules and the dashboard)."""

from __future__ import annotations

import pytest

from system.monitoring.promql import job_matchers, metric_names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('up{job="waste-api"} == 0', {"up"}),
        ("rate(gpt5_api_errors_total[5m]) > 0.5", {"gpt5_api_errors_total"}),
        (
            "histogram_quantile(0.95, sum by (le, job) (rate(wal_sync_delay_seconds_bucket[5m])))",
            {"wal_sync_delay_seconds_bucket"},
        ),
        (
            "sum by (database, pg_server) (pg_stat_activity_count) / on (database, pg_server) "
            "max by (database, pg_server) (pg_settings_max_connections) >= 0.9",
            {"pg_stat_activity_count", "pg_settings_max_connections"},
        ),
        ('label_replace(sum(rate(a_total[1m])) > 0, "cause", "x y", "", "") or b offset 5m', {"a_total", "b"}),
        (
            "min_over_time(wal_unsynced_tasks[5m:30s]) > 1e3 and deriv(wal_unsynced_tasks[5m]) > 0",
            {"wal_unsynced_tasks"},
        ),
        ('{__name__="wal_pending_tasks"}', {"wal_pending_tasks"}),
        ("count(up == 0) or vector(0)", {"up"}),
        ("sum without (instance) (x) unless ignoring (job) y", {"x", "y"}),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_job_matchers() -> None:
    assert job_matchers('up{job="a"} or up{job=\'b\', x="y"} or up{job=~"c.*"}') == {"a", "b"}
