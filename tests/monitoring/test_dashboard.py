"""The Grafana dashboard: spec section 4's panels, and every query reads a real metric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from system.monitoring.known_metrics import all_known_names
from system.monitoring.promql import dashboard_metric_names, dashboard_queries

DASHBOARD = Path(__file__).resolve().parents[2] / "system" / "monitoring" / "dashboard.json"


def _dash() -> dict:  # type: ignore[type-arg]
    return json.loads(DASHBOARD.read_text())  # type: ignore[no-any-return]


def test_title_and_unique_panel_ids() -> None:
    d = _dash()
    assert d["title"] == "Ecoeco WAL + Domain Architecture"
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))


def test_spec_panels_present() -> None:
    exprs = " ".join(e for _t, e in dashboard_queries(_dash()))
    for needle in (
        'pg_up{job="postgres"}',  # per-domain pg_up
        "wal_pending_tasks",  # WAL pending
        "rate(wal_tasks_total",  # task rate
        "histogram_quantile(0.95, sum by (le, job) (rate(wal_sync_delay_seconds_bucket",  # P95 sync delay
        "max by (queue) (rabbitmq_detailed_queue_messages",  # queue depth per queue
        "up{job=~",  # which APIs/workers are down
    ):
        assert needle in exprs, needle


def test_every_dashboard_metric_exists() -> None:
    names = dashboard_metric_names(DASHBOARD)
    assert names, "no metric found in the dashboard"
    assert names - all_known_names() == set()


@pytest.mark.controls
def test_planted_dashboard_typo_is_reported(tmp_path: Path) -> None:
    d = _dash()
    d["panels"][1]["targets"][0]["expr"] = 'min by (database) (pg_upp{job="postgres"})'
    path = tmp_path / "dash.json"
    path.write_text(json.dumps(d))
    assert dashboard_metric_names(path) - all_known_names() == {"pg_upp"}
