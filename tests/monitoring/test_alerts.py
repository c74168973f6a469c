"""harness/alerts.py on hand-made alert histories (no Prometheus needed)."""

from __future__ import annotations

from typing import Any

import pytest

from core.verdict import Judgement, Verdict
from harness import alerts as A
from harness.alerts import AlertEpisode, episodes_from_series, judge_detection

T0 = 1_000_000.0  # injection time


def ep(
    alert: str, first: float, resolved: float | None, domain: str | None = "waste", step: float = 1.0, **labels: str
) -> AlertEpisode:
    lab = dict(labels)
    if domain is not None:
        lab["domain"] = domain
    last = (resolved - step) if resolved is not None else first
    return AlertEpisode(alert, lab, first, last, resolved, step)


def ev(j: Judgement) -> dict[str, Any]:
    assert isinstance(j.evidence, dict)
    return j.evidence


def verdicts(judgements: list[Any]) -> dict[str, Verdict]:
    return {j.claim.split(" ")[0]: j.verdict for j in judgements}


def test_detected_resolved_in_scope() -> None:
    history = [ep("WasteAPIDown", T0 + 2, T0 + 9)]
    js = judge_detection("WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste", "pipeline"}, history, max_detection_s=4)
    assert verdicts(js) == {
        "detection": Verdict.HOLDS,
        "detection_resolved": Verdict.HOLDS,
        "detection_scope": Verdict.HOLDS,
    }
    assert js[0].measured == 2 and js[1].measured == 4


@pytest.mark.controls
def test_planted_expected_alert_never_fires_is_violated() -> None:
    """The planted defect: the fault lasted long enough, the expected alert never fired."""
    history = [ep("QueueStalled", T0 + 3, T0 + 20, domain="pipeline")]
    js = judge_detection("WasteAPIDown", T0, T0 + 60, T0 + 90, {"waste", "pipeline"}, history, min_detectable_s=4)
    assert js[0].verdict is Verdict.VIOLATED
    assert "never fired" in ev(js[0])["reason"]
    assert js[1].verdict is Verdict.INCONCLUSIVE  # nothing to resolve
    assert js[2].verdict is Verdict.HOLDS


def test_never_fires_on_empty_history_is_violated() -> None:
    js = judge_detection("S3Down", T0, T0 + 60, T0 + 90, {"pipeline"}, [])
    assert js[0].verdict is Verdict.VIOLATED


def test_fault_shorter_than_the_rule_can_see_is_inconclusive() -> None:
    js = judge_detection("WasteAPIDown", T0, T0 + 0.8, T0 + 30, {"waste"}, [], min_detectable_s=4.2)
    assert js[0].verdict is Verdict.INCONCLUSIVE
    assert ev(js[0])["outage_s"] == 0.8


def test_late_detection_is_violated() -> None:
    js = judge_detection(
        "WasteAPIDown", T0, T0 + 30, T0 + 60, {"waste"}, [ep("WasteAPIDown", T0 + 12, T0 + 33)], max_detection_s=5
    )
    assert js[0].verdict is Verdict.VIOLATED and js[0].measured == 12


def test_alert_firing_before_injection_is_inconclusive() -> None:
    history = [ep("WasteAPIDown", T0 - 20, T0 + 8)]
    js = judge_detection("WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste"}, history)
    assert js[0].verdict is Verdict.INCONCLUSIVE
    assert js[2].verdict is Verdict.HOLDS  # pre-existing alerts are not the fault's doing
    assert ev(js[2])["preexisting"]


def test_old_resolved_episode_before_injection_is_ignored() -> None:
    history = [ep("WasteAPIDown", T0 - 100, T0 - 50), ep("WasteAPIDown", T0 + 3, T0 + 10)]
    js = judge_detection("WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste"}, history)
    assert js[0].verdict is Verdict.HOLDS and js[0].measured == 3


def test_still_firing_at_window_end_is_violated() -> None:
    js = judge_detection("WasteDBDown", T0, T0 + 10, T0 + 60, {"waste"}, [ep("WasteDBDown", T0 + 2, None)])
    assert js[0].verdict is Verdict.HOLDS
    assert js[1].verdict is Verdict.VIOLATED


def test_slow_resolution_against_a_bound() -> None:
    js = judge_detection(
        "WasteDBDown", T0, T0 + 10, T0 + 60, {"waste"}, [ep("WasteDBDown", T0 + 2, T0 + 40)], max_resolve_s=5
    )
    assert js[1].verdict is Verdict.VIOLATED and js[1].measured == 30


def test_no_recovery_makes_resolution_inconclusive() -> None:
    js = judge_detection("WasteDBDown", T0, None, T0 + 60, {"waste"}, [ep("WasteDBDown", T0 + 2, None)])
    assert js[1].verdict is Verdict.INCONCLUSIVE


def test_alert_outside_claimed_domains_is_violated() -> None:
    history = [ep("WasteAPIDown", T0 + 2, T0 + 9), ep("AuthDBDown", T0 + 4, T0 + 8, domain="auth")]
    js = judge_detection("WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste", "pipeline"}, history)
    assert js[2].verdict is Verdict.VIOLATED
    assert [e["alert"] for e in ev(js[2])["outside"]] == ["AuthDBDown"]
    assert "auth" in ev(js[2])["reason"]


def test_alert_after_window_end_is_not_counted() -> None:
    history = [ep("WasteAPIDown", T0 + 2, T0 + 9), ep("ChatAPIDown", T0 + 40, None, domain="chat")]
    js = judge_detection("WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste"}, history)
    assert js[2].verdict is Verdict.HOLDS


def test_alert_without_domain_is_inconclusive_scope() -> None:
    history = [ep("WasteAPIDown", T0 + 2, T0 + 9), ep("Mystery", T0 + 3, T0 + 5, domain=None)]
    js = judge_detection("WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste"}, history)
    assert js[2].verdict is Verdict.INCONCLUSIVE


def test_claim_prefix_in_names() -> None:
    js = judge_detection(
        "WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste"}, [ep("WasteAPIDown", T0 + 2, T0 + 9)], claim="F1"
    )
    assert [j.claim for j in js] == [
        "F1: detection WasteAPIDown",
        "F1: detection_resolved WasteAPIDown",
        "F1: detection_scope",
    ]
    assert all(j.to_dict()["verdict"] in {"holds", "violated", "inconclusive", "harness_error"} for j in js)


# --- query_range results -> episodes ---------------------------------------------------------


def _series(name: str, times: list[float], **labels: str) -> dict[str, Any]:
    metric = {"__name__": "ALERTS", "alertname": name, "alertstate": "firing", **labels}
    return {"metric": metric, "values": [[t, "1"] for t in times]}


def test_episodes_from_series_split_on_gaps_and_open_end() -> None:
    s = _series("WasteAPIDown", [10, 11, 12, 20, 21, 29, 30], domain="waste", job="waste-api")
    eps = episodes_from_series([s], step=1.0, window_end=30.5)
    assert [(e.first_firing, e.last_firing, e.resolved) for e in eps] == [(10, 12, 13), (20, 21, 22), (29, 30, None)]
    assert eps[0].labels == {"domain": "waste", "job": "waste-api"}
    assert eps[0].alert == "WasteAPIDown"


class FakeClient:
    url = "http://fake"

    def __init__(self, series: list[dict[str, Any]], fail: bool = False) -> None:
        self.series, self.fail = series, fail
        self.calls: list[tuple[str, float, float, str]] = []

    def custom_query_range(self, query: str, start_time: Any, end_time: Any, step: str) -> list[dict[str, Any]]:
        self.calls.append((query, start_time.timestamp(), end_time.timestamp(), step))
        if self.fail:
            raise ConnectionError("refused")
        lo, hi = start_time.timestamp(), end_time.timestamp()
        return [{"metric": s["metric"], "values": [v for v in s["values"] if lo <= v[0] <= hi]} for s in self.series]


def test_fetch_alert_history_chunks_and_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(A, "MAX_POINTS", 5)  # force several chunks
    client = FakeClient([_series("S3Down", [float(t) for t in range(3, 15)], domain="pipeline")])
    eps = A.fetch_alert_history(0, 20, step=1.0, client=client)
    assert len(client.calls) == 4 and client.calls[0][0] == A.FIRING_QUERY
    assert [(e.alert, e.first_firing, e.resolved) for e in eps] == [("S3Down", 3.0, 15.0)]


def test_fetch_failure_raises_prometheus_unavailable() -> None:
    with pytest.raises(A.PrometheusUnavailable):
        A.fetch_alert_history(0, 20, step=1.0, client=FakeClient([], fail=True))


def test_judge_from_prometheus_unreachable_is_harness_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> list[AlertEpisode]:
        raise A.PrometheusUnavailable("connection refused")

    monkeypatch.setattr(A, "fetch_alert_history", boom)
    js, eps = A.judge_from_prometheus("WasteAPIDown", T0, T0 + 5, T0 + 30, {"waste"}, claim="F1")
    assert eps == [] and [j.verdict for j in js] == [Verdict.HARNESS_ERROR] * 3


def test_default_url_uses_port_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOECO_PORT_PREFIX", "180")
    assert A.default_url() == "http://127.0.0.1:18090"


def test_detection_bound() -> None:
    assert A.detection_bound_s(1.2, 1, 1, 0.8) == pytest.approx(5.0)
