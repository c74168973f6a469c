"""GPT outage through the real control file and the fake's own reader; error counter from a metrics endpoint."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from faults import GptOutage, took_effect
from faults.gpt_outage import counter_total, reset_control
from system.fakes.gpt import GPTControl


class _Metrics(http.server.BaseHTTPRequestHandler):
    errors = 0.0

    def do_GET(self) -> None:
        body = (
            "# TYPE gpt5_api_errors_total counter\n"
            f'gpt5_api_errors_total{{kind="http"}} {type(self).errors}\n'
            'gpt5_api_errors_total{kind="timeout"} 1.0\n'
            "gpt5_api_errors_total_created 1.7e9\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metrics_url() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()


def test_outage_is_seen_by_the_fake_and_healed(tmp_path: Path, metrics_url: str) -> None:
    control = tmp_path / "control" / "gpt.json"
    _Metrics.errors = 0.0
    fault = GptOutage("gpt5", "error", control_file=control, metrics_url=metrics_url)
    fault.inject()
    assert GPTControl(str(control)).behaviour("gpt5") == ("error", 0.0)
    assert GPTControl(str(control)).behaviour("gpt4o-mini")[0] == "healthy"  # the other family untouched
    evidence = {e.check: e for e in fault.evidence()}
    assert evidence["control-file"].ok
    assert not evidence["counter:gpt5_api_errors_total"].ok  # no failed call yet
    _Metrics.errors = 3.0  # the worker's calls fail
    assert took_effect(fault.evidence())
    fault.heal()
    fault.heal()
    assert GPTControl(str(control)).behaviour("gpt5")[0] == "healthy"
    assert not took_effect(fault.evidence())


def test_slow_mode_and_heal_before_inject(tmp_path: Path) -> None:
    control = tmp_path / "gpt.json"
    fault = GptOutage("gpt4o-mini", "slow", latency_ms=1500, control_file=control)
    fault.heal()  # nothing injected: nothing written
    assert not control.exists()
    fault.inject()
    assert GPTControl(str(control)).behaviour("gpt4o-mini") == ("slow", 1.5)
    assert took_effect(fault.evidence())


def test_reset_and_counter_parsing(tmp_path: Path, metrics_url: str) -> None:
    control = tmp_path / "gpt.json"
    GptOutage("gpt5", "off", control_file=control).inject()
    reset_control(control)
    assert GPTControl(str(control)).behaviour("gpt5")[0] == "healthy"
    _Metrics.errors = 2.0
    assert counter_total(metrics_url, "gpt5_api_errors_total") == 3.0  # both label sets, not _created
    assert counter_total("http://127.0.0.1:9/metrics", "gpt5_api_errors_total") is None


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        GptOutage("gpt3", "error")
    with pytest.raises(ValueError):
        GptOutage("gpt5", "healthy")
