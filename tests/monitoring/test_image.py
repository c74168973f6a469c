"""The ecoeco-prometheus image for real: Prometheus at ECOECO_TIME_SCALE=0.02 against an almost
empty network (only pg-exporter and, if its image exists, one PostgreSQL as pg-waste).

Every target except those is unresolvable, so their `up` is 0 and the down alerts must fire
within seconds; the exporter must report pg_up 1 for ecoeco_waste and 0 for ecoeco_auth, each
under its own `database` label. harness/alerts.py then reads the history from this Prometheus.
Containers are named ecoeco-mon-test-* and labelled org.ecoeco.project=ecoeco-mon-test.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from core.verdict import Verdict
from harness import alerts as A
from system.monitoring.promql import dashboard_metric_names, dashboard_queries, server_metric_names
from tests.monitoring import promtool as pt
from tests.monitoring.test_rules import ALERTS

pytestmark = pytest.mark.integration

LABEL = pt.TEST_LABEL
UP_ALERTS = {
    "WasteAPIDown", "AuthAPIDown", "ChatAPIDown", "UserinfoAPIDown", "LocationAPIDown", "RecycleAPIDown",
    "WorkerStorageDown", "WorkerAIDown", "RabbitMQDown", "RabbitMQNodeDown", "AuthDBDown", "ChatDBDown",
    "LocationDBDown", "AnalyticsDBDown",
}  # fmt: skip


def _docker(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _cleanup() -> None:
    ids = _docker("ps", "-aq", "--filter", f"label={LABEL}", check=False).split()
    if ids:
        _docker("rm", "-f", "-v", *ids, check=False)  # -v: their anonymous volumes (the images declare VOLUMEs)
    for net in _docker("network", "ls", "-q", "--filter", f"label={LABEL}", check=False).split():
        _docker("network", "rm", net, check=False)


def _image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True, timeout=30).returncode == 0


def _wait(what: str, fn: Any, timeout: float = 60.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}: last {last!r}")


@dataclass
class Stack:
    url: str
    started: float
    has_postgres: bool
    exporter: str
    postgres: str


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not pt.image_available():
        pytest.skip(f"{pt.IMAGE} image not built (scripts/setup.sh)")
    _cleanup()
    tag = str(os.getpid())
    net = f"ecoeco-mon-test-net-{tag}"
    _docker("network", "create", "--label", LABEL, net)
    has_pg = _image_exists("ecoeco-postgres")
    pg = f"ecoeco-mon-test-pg-{tag}"
    password = secrets.token_hex(16)  # the exporter logs in as the superuser, like the stack's
    try:
        if has_pg:
            _docker(
                "run",
                "-d",
                "--name",
                pg,
                "--label",
                LABEL,
                "--network",
                net,
                "--network-alias",
                "pg-waste",
                "-e",
                "PG_DATABASE=ecoeco_waste",
                "-e",
                f"PG_PASSWORD={password}",
                "ecoeco-postgres",
            )
        exporter = f"ecoeco-mon-test-exporter-{tag}"
        _docker(
            "run",
            "-d",
            "--name",
            exporter,
            "--label",
            LABEL,
            "--network",
            net,
            "--network-alias",
            "pg-exporter",
            "-e",
            f"ECOECO_PG_SUPERUSER_PASSWORD={password}",
            pt.IMAGE,
            "postgres-exporter",
        )
        prom = f"ecoeco-mon-test-prom-{tag}"
        started = time.time()
        _docker(
            "run",
            "-d",
            "--name",
            prom,
            "--label",
            LABEL,
            "--network",
            net,
            "-e",
            "ECOECO_TIME_SCALE=0.02",
            "-p",
            "127.0.0.1::9090",
            pt.IMAGE,
        )
        port = _docker("port", prom, "9090/tcp").splitlines()[0].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}"
        _wait("prometheus ready", lambda: requests.get(f"{url}/-/ready", timeout=2).status_code == 200)
        yield Stack(url, started, has_pg, exporter, pg)
    finally:
        _cleanup()


def _query(url: str, q: str) -> list[dict[str, Any]]:
    r = requests.get(f"{url}/api/v1/query", params={"query": q}, timeout=5)
    r.raise_for_status()
    body = r.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def test_rules_loaded_and_healthy(stack: Stack) -> None:
    def evaluated() -> dict[str, Any] | None:
        rules = A.alert_rules(stack.url)
        return rules if all(r["health"] == "ok" for r in rules.values()) and len(rules) == len(ALERTS) else None

    rules = _wait("every rule evaluated ok", evaluated, timeout=30)
    assert sorted(rules) == ALERTS
    assert rules["WasteAPIDown"]["for_s"] == pytest.approx(1.2)
    assert rules["GPT5APIDown"]["for_s"] == pytest.approx(6)
    assert A.evaluation_interval_s(stack.url) == 1.0


def test_down_targets_fire_their_alerts(stack: Stack) -> None:
    def firing() -> set[str] | None:
        names = {a["labels"]["alertname"] for a in A.current_alerts(stack.url) if a["state"] == "firing"}
        return names if names >= UP_ALERTS else None

    names = _wait("every down alert firing", firing, timeout=60)
    if stack.has_postgres:
        assert "WasteDBDown" not in names


def test_exporter_labels_each_database(stack: Stack) -> None:
    def pg_up() -> dict[str, float] | None:
        got = {r["metric"]["database"]: float(r["value"][1]) for r in _query(stack.url, 'pg_up{job="postgres"}')}
        want_waste = 1.0 if stack.has_postgres else 0.0
        return got if len(got) == 5 and got.get("ecoeco_waste") == want_waste else None

    got = _wait("pg_up for all five databases", pg_up, timeout=60)
    assert got["ecoeco_auth"] == 0.0 and got["ecoeco_analytics"] == 0.0
    _wait(
        "exporter container healthy",
        lambda: _docker("inspect", "-f", "{{.State.Health.Status}}", stack.exporter) == "healthy",
        timeout=30,
    )


def test_alert_history_and_judgement_from_real_prometheus(stack: Stack) -> None:
    _wait(
        "WasteAPIDown firing",
        lambda: any(
            a["labels"]["alertname"] == "WasteAPIDown" and a["state"] == "firing" for a in A.current_alerts(stack.url)
        ),
        timeout=60,
    )
    time.sleep(1.5)
    end = time.time()
    episodes = A.fetch_alert_history(stack.started - 5, end, url=stack.url)
    waste = [e for e in episodes if e.alert == "WasteAPIDown"]
    assert len(waste) == 1 and waste[0].resolved is None
    assert waste[0].labels["failure_point"] == "F1" and waste[0].labels["domain"] == "waste"
    # the stack "failed" when Prometheus started: for 1.2 s + scrape 1 s + evaluation 1 s
    js = A.judge_detection("WasteAPIDown", stack.started, None, end, {"waste"}, episodes, max_detection_s=30)
    assert js[0].verdict is Verdict.HOLDS, js[0].to_dict()
    assert js[2].verdict is Verdict.VIOLATED  # every other domain's alerts fire too (nothing runs)


def test_dashboard_queries_are_valid_promql(stack: Stack) -> None:
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "system/monitoring/dashboard.json").read_text())
    for title, expr in dashboard_queries(dashboard):
        _query(stack.url, expr.replace("$__rate_interval", "1m"))  # raises on a syntax error
        assert title
    present = server_metric_names(stack.url)
    # only Prometheus' own and the exporters' series exist here; the app's appear on a running stack
    assert {"up", "pg_up", "ALERTS"} <= present
    assert dashboard_metric_names() & present >= {"up", "pg_up"}


def test_real_fault_detected_and_resolved(stack: Stack) -> None:
    """Stop pg-waste for 10 s: WasteDBDown must fire, resolve after the restart, and nothing
    outside the waste domain may start firing (everything else was down before: pre-existing)."""
    if not stack.has_postgres:
        pytest.skip("no ecoeco-postgres image")
    _wait("ecoeco_waste up", lambda: _query(stack.url, 'pg_up{database="ecoeco_waste"} == 1'), timeout=60)
    _wait(
        "WasteDBDown not firing",
        lambda: not any(a["labels"]["alertname"] == "WasteDBDown" for a in A.current_alerts(stack.url)),
        timeout=30,
    )
    # Everything else of the stack is absent here, so its alerts fire; wait until they all do
    # (the same set for five seconds), or one firing late would count as outside the scope.
    seen: list[frozenset[str]] = []

    def settled() -> bool:
        seen.append(frozenset(a["labels"]["alertname"] for a in A.current_alerts(stack.url) if a["state"] == "firing"))
        return len(seen) >= 6 and len(set(seen[-6:])) == 1

    _wait("the other alerts settled", settled, timeout=90, every=1.0)
    injected = time.time()
    _docker("stop", "-t", "1", stack.postgres)
    time.sleep(10)
    _docker("start", stack.postgres)
    recovered = time.time()
    _wait(
        "WasteDBDown resolved",
        lambda: (
            _query(stack.url, 'pg_up{database="ecoeco_waste"} == 1')
            and not any(a["labels"]["alertname"] == "WasteDBDown" for a in A.current_alerts(stack.url))
        ),
        timeout=60,
    )
    time.sleep(2)
    js, episodes = A.judge_from_prometheus(
        "WasteDBDown",
        injected,
        recovered,
        time.time(),
        {"waste", "pipeline", "recycle"},
        url=stack.url,
        start=injected - 10,
        min_detectable_s=1.2 + 2 * 2,
        max_detection_s=15,
        max_resolve_s=15,
        claim="F11",
    )
    assert [j.verdict for j in js] == [Verdict.HOLDS] * 3, [j.to_dict() for j in js]
    assert any(e.alert == "WasteDBDown" and e.labels["database"] == "ecoeco_waste" for e in episodes)
