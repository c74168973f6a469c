"""Detection through the real Prometheus: alert history of a run, and judging it against a claim.

`fetch_alert_history` reads `ALERTS{alertstate="firing"}` with query_range over a window, at a
step of one evaluation interval, and turns each alert's series into episodes (first firing,
resolved). `judge_detection` then answers, as core.verdict Judgements:

- detection: did the expected alert fire after the injection, and how long after;
- detection_resolved: did it stop firing after recovery, before the window ended;
- detection_scope: did any alert fire for a domain outside the claimed impact.

Times are unix seconds. The alert rules (system/monitoring/rules) carry labels `domain`,
`failure_point` and `severity`; see docs/monitoring.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.verdict import Judgement, Verdict
from system import topology

FIRING_QUERY = 'ALERTS{alertstate="firing"}'
MAX_POINTS = 10_000  # Prometheus refuses a query_range of more than 11,000 points per series


def default_url() -> str:
    """Prometheus on the loopback, where docker-compose.yml publishes it."""
    return topology.url("prometheus")


@dataclass(frozen=True)
class AlertEpisode:
    """One continuous firing of one alert series."""

    alert: str
    labels: Mapping[str, str]  # the alert's labels (alertname and alertstate removed)
    first_firing: float  # first evaluation at which it was seen firing
    last_firing: float  # last evaluation at which it was seen firing
    resolved: float | None  # first evaluation after last_firing; None: still firing at the window's end
    resolution_s: float = 0.0  # the step used: every time here is exact to within this

    @property
    def domain(self) -> str | None:
        return self.labels.get("domain")

    def firing_at(self, t: float) -> bool:
        return self.first_firing <= t and (self.resolved is None or t < self.resolved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "labels": dict(self.labels),
            "first_firing": self.first_firing,
            "last_firing": self.last_firing,
            "resolved": self.resolved,
            "resolution_s": self.resolution_s,
        }


class PrometheusUnavailable(RuntimeError):
    """Prometheus did not answer, or answered with an error: the harness cannot judge detection."""


def episodes_from_series(series: Iterable[Mapping[str, Any]], step: float, window_end: float) -> list[AlertEpisode]:
    """Episodes from query_range results ([{"metric": {...}, "values": [[t, "1"], ...]}, ...]).

    A gap of more than 1.5 steps between two points ends an episode; an episode whose last point
    is within 1.5 steps of window_end is still firing (resolved None).
    """
    out: list[AlertEpisode] = []
    for s in series:
        metric = dict(s.get("metric", {}))
        name = metric.pop("alertname", "?")
        metric.pop("alertstate", None)
        metric.pop("__name__", None)
        times = sorted(float(t) for t, _v in s.get("values", []))
        if not times:
            continue
        start = prev = times[0]
        for t in times[1:]:
            if t - prev > 1.5 * step:
                out.append(AlertEpisode(name, metric, start, prev, prev + step, step))
                start = t
            prev = t
        resolved = None if window_end - prev <= 1.5 * step else prev + step
        out.append(AlertEpisode(name, metric, start, prev, resolved, step))
    out.sort(key=lambda e: (e.first_firing, e.alert))
    return out


def _client(url: str) -> Any:
    from prometheus_api_client import PrometheusConnect

    return PrometheusConnect(url=url, disable_ssl=True, timeout=10)


def _api_get(client: Any, path: str, params: dict[str, str] | None = None) -> Any:
    """GET one Prometheus HTTP API endpoint the client library has no method for (status/config,
    alerts, rules: prometheus-api-client 0.7 covers queries, series, labels, targets and metadata
    only), at the client's own URL; the JSON body, or requests' error."""
    import requests

    response = requests.get(f"{client.url}{path}", params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def evaluation_interval_s(url: str | None = None, client: Any = None) -> float:
    """The running Prometheus' global evaluation_interval (from /api/v1/status/config)."""
    import yaml

    client = client or _client(url or default_url())
    try:
        cfg = yaml.safe_load(_api_get(client, "/api/v1/status/config")["data"]["yaml"])
    except Exception as exc:  # the session raises requests' errors, the JSON may be odd
        raise PrometheusUnavailable(f"cannot read the config of {client.url}: {exc!r}") from exc
    from system.monitoring.render import parse_duration

    return parse_duration(str(cfg.get("global", {}).get("evaluation_interval", "1m")))


def fetch_alert_history(
    start: float, end: float, url: str | None = None, step: float | None = None, client: Any = None
) -> list[AlertEpisode]:
    """Every firing episode of every alert between start and end (unix s).

    step defaults to the server's evaluation interval; long windows are read in chunks. An alert
    already firing at `start` gets first_firing = start (judge_detection calls it pre-existing).
    Raises PrometheusUnavailable when Prometheus cannot be queried.
    """
    client = client or _client(url or default_url())
    step = step or evaluation_interval_s(client=client)
    if end <= start:
        raise ValueError(f"empty window [{start}, {end}]")
    merged: dict[tuple[tuple[str, str], ...], dict[float, str]] = {}
    chunk = step * MAX_POINTS
    t0 = start
    while t0 < end:
        t1 = min(end, t0 + chunk)
        try:
            result = client.custom_query_range(
                FIRING_QUERY,
                start_time=datetime.fromtimestamp(t0, UTC),
                end_time=datetime.fromtimestamp(t1, UTC),
                step=f"{step:g}",
            )
        except Exception as exc:  # requests' errors and PrometheusApiClientException
            raise PrometheusUnavailable(f"query_range {FIRING_QUERY} on {client.url} failed: {exc!r}") from exc
        for s in result:
            key = tuple(sorted(s["metric"].items()))
            merged.setdefault(key, {}).update({float(t): v for t, v in s["values"]})
        t0 = t1
    series = [{"metric": dict(k), "values": sorted(v.items())} for k, v in merged.items()]
    return episodes_from_series(series, step, end)


def current_alerts(url: str | None = None, client: Any = None) -> list[dict[str, Any]]:
    """Live snapshot from /api/v1/alerts (pending and firing), for polling during a run."""
    client = client or _client(url or default_url())
    try:
        return list(_api_get(client, "/api/v1/alerts")["data"]["alerts"])
    except Exception as exc:
        raise PrometheusUnavailable(f"GET /api/v1/alerts on {client.url} failed: {exc!r}") from exc


def alert_rules(url: str | None = None, client: Any = None) -> dict[str, dict[str, Any]]:
    """Loaded alert rules from /api/v1/rules: name -> {"for_s", "labels", "query", "health"}."""
    client = client or _client(url or default_url())
    try:
        groups = _api_get(client, "/api/v1/rules", {"type": "alert"})["data"]["groups"]
    except Exception as exc:
        raise PrometheusUnavailable(f"GET /api/v1/rules on {client.url} failed: {exc!r}") from exc
    return {
        r["name"]: {
            "for_s": float(r.get("duration", 0)),
            "labels": r.get("labels", {}),
            "query": r.get("query"),
            "health": r.get("health"),
        }
        for g in groups
        for r in g.get("rules", [])
    }


def detection_bound_s(
    for_s: float,
    scrape_interval_s: float,
    evaluation_interval_s: float,
    scrape_timeout_s: float = 0.0,
    range_s: float = 0.0,
) -> float:
    """Latest an alert can fire after its condition became true: the failure must first show in
    a scrape (interval + timeout), a rate() must see it (range), `for` must pass, and the
    evaluation that notices runs up to one interval later; plus one interval of query resolution."""
    return scrape_interval_s + scrape_timeout_s + range_s + for_s + 2 * evaluation_interval_s


@dataclass
class _Scope:
    outside: list[dict[str, Any]] = field(default_factory=list)
    inside: list[dict[str, Any]] = field(default_factory=list)
    preexisting: list[dict[str, Any]] = field(default_factory=list)
    no_domain: list[dict[str, Any]] = field(default_factory=list)


def judge_detection(
    expected_alert: str,
    injected_at: float,
    recovered_at: float | None,
    window_end: float,
    allowed_domains: Set[str],
    alerts: Sequence[AlertEpisode],
    *,
    max_detection_s: float | None = None,
    min_detectable_s: float | None = None,
    max_resolve_s: float | None = None,
    claim: str | None = None,
) -> list[Judgement]:
    """Judge detection of one injected fault from an alert history.

    max_detection_s: bound on first firing minus injection (None: any delay inside the window).
    min_detectable_s: shortest fault the alert can see (its `for` plus scrape latency); a fault
    that recovered sooner and was not detected is INCONCLUSIVE rather than VIOLATED.
    max_resolve_s: bound on resolution minus recovery (None: resolved before window_end).
    Returns three Judgements: detection, detection_resolved, detection_scope.
    """
    prefix = f"{claim}: " if claim else ""
    eps = max((e.resolution_s for e in alerts), default=0.0)
    mine = [e for e in alerts if e.alert == expected_alert]
    before = [e for e in mine if e.first_firing < injected_at - eps]
    preexisting = [e for e in before if e.firing_at(injected_at)]
    after = sorted(
        (e for e in mine if e.first_firing >= injected_at - eps and e.first_firing <= window_end),
        key=lambda e: e.first_firing,
    )
    window = {"injected_at": injected_at, "recovered_at": recovered_at, "window_end": window_end}
    judgements = [
        _judge_fired(
            prefix,
            expected_alert,
            injected_at,
            recovered_at,
            window_end,
            after,
            preexisting,
            max_detection_s,
            min_detectable_s,
            window,
        ),
        _judge_resolved(prefix, expected_alert, recovered_at, window_end, after + preexisting, max_resolve_s, window),
        _judge_scope(prefix, injected_at, window_end, allowed_domains, alerts, window),
    ]
    return judgements


def _judge_fired(
    prefix: str,
    alert: str,
    injected_at: float,
    recovered_at: float | None,
    window_end: float,
    after: list[AlertEpisode],
    preexisting: list[AlertEpisode],
    max_detection_s: float | None,
    min_detectable_s: float | None,
    window: dict[str, Any],
) -> Judgement:
    name = f"{prefix}detection {alert}"
    evidence: dict[str, Any] = {
        **window,
        "episodes": [e.to_dict() for e in after],
        "max_detection_s": max_detection_s,
        "min_detectable_s": min_detectable_s,
    }
    if preexisting:
        evidence["preexisting"] = [e.to_dict() for e in preexisting]
        evidence["reason"] = f"{alert} was already firing when the fault was injected: detection cannot be attributed"
        return Judgement(name, Verdict.INCONCLUSIVE, None, max_detection_s, "s", evidence)
    if after:
        delay = round(max(0.0, after[0].first_firing - injected_at), 3)
        late = max_detection_s is not None and delay > max_detection_s
        if late:
            evidence["reason"] = f"{alert} fired {delay} s after injection, later than {max_detection_s} s"
        return Judgement(name, Verdict.VIOLATED if late else Verdict.HOLDS, delay, max_detection_s, "s", evidence)
    outage = (recovered_at if recovered_at is not None else window_end) - injected_at
    evidence["outage_s"] = round(outage, 3)
    if min_detectable_s is not None and recovered_at is not None and outage < min_detectable_s:
        evidence["reason"] = (
            f"{alert} never fired, but the fault lasted {outage:.3f} s, less than the "
            f"{min_detectable_s} s the rule needs to see it"
        )
        return Judgement(name, Verdict.INCONCLUSIVE, None, max_detection_s, "s", evidence)
    evidence["reason"] = f"{alert} never fired between injection and the end of the window"
    return Judgement(name, Verdict.VIOLATED, None, max_detection_s, "s", evidence)


def _judge_resolved(
    prefix: str,
    alert: str,
    recovered_at: float | None,
    window_end: float,
    episodes: list[AlertEpisode],
    max_resolve_s: float | None,
    window: dict[str, Any],
) -> Judgement:
    name = f"{prefix}detection_resolved {alert}"
    evidence: dict[str, Any] = {**window, "max_resolve_s": max_resolve_s}
    if recovered_at is None:
        evidence["reason"] = "the system never recovered inside the window"
        return Judgement(name, Verdict.INCONCLUSIVE, None, max_resolve_s, "s", evidence)
    if not episodes:
        evidence["reason"] = f"{alert} never fired: nothing to resolve"
        return Judgement(name, Verdict.INCONCLUSIVE, None, max_resolve_s, "s", evidence)
    last = max(episodes, key=lambda e: e.last_firing)
    evidence["episode"] = last.to_dict()
    if last.resolved is None:
        evidence["reason"] = (
            f"{alert} still firing at the end of the window, {window_end - recovered_at:.3f} s after recovery"
        )
        return Judgement(name, Verdict.VIOLATED, None, max_resolve_s, "s", evidence)
    took = round(max(0.0, last.resolved - recovered_at), 3)
    late = max_resolve_s is not None and took > max_resolve_s
    if late:
        evidence["reason"] = f"{alert} resolved {took} s after recovery, later than {max_resolve_s} s"
    return Judgement(name, Verdict.VIOLATED if late else Verdict.HOLDS, took, max_resolve_s, "s", evidence)


def _judge_scope(
    prefix: str,
    injected_at: float,
    window_end: float,
    allowed: Set[str],
    alerts: Sequence[AlertEpisode],
    window: dict[str, Any],
) -> Judgement:
    name = f"{prefix}detection_scope"
    scope = _Scope()
    eps = max((e.resolution_s for e in alerts), default=0.0)
    for e in alerts:
        if e.first_firing > window_end or (e.resolved is not None and e.resolved <= injected_at):
            continue
        if e.first_firing < injected_at - eps:
            scope.preexisting.append(e.to_dict())  # already firing before the fault: not its doing
        elif e.domain is None:
            scope.no_domain.append(e.to_dict())
        elif e.domain in allowed:
            scope.inside.append(e.to_dict())
        else:
            scope.outside.append(e.to_dict())
    evidence: dict[str, Any] = {
        **window,
        "allowed_domains": sorted(allowed),
        "outside": scope.outside,
        "inside": scope.inside,
        "preexisting": scope.preexisting,
        "without_domain": scope.no_domain,
    }
    if scope.outside:
        domains = sorted({str(e["labels"].get("domain")) for e in scope.outside})
        evidence["reason"] = (
            f"alerts fired for domain(s) {', '.join(domains)} outside the claimed impact: "
            + ", ".join(sorted({e["alert"] for e in scope.outside}))
        )
        return Judgement(name, Verdict.VIOLATED, len(scope.outside), 0, "alerts", evidence)
    if scope.no_domain:
        evidence["reason"] = "alerts without a domain label fired: cannot tell their scope"
        return Judgement(name, Verdict.INCONCLUSIVE, 0, 0, "alerts", evidence)
    return Judgement(name, Verdict.HOLDS, 0, 0, "alerts", evidence)


def judge_from_prometheus(
    expected_alert: str,
    injected_at: float,
    recovered_at: float | None,
    window_end: float,
    allowed_domains: Set[str],
    *,
    url: str | None = None,
    start: float | None = None,
    **bounds: Any,
) -> tuple[list[Judgement], list[AlertEpisode]]:
    """Fetch the history (from `start`, default one window before injection) and judge it.

    A Prometheus that cannot be queried gives three HARNESS_ERROR judgements, never a pass.
    """
    start = injected_at - max(60.0, window_end - injected_at) if start is None else start
    try:
        episodes = fetch_alert_history(start, window_end, url=url)
    except (PrometheusUnavailable, ValueError) as exc:
        evidence = {"error": str(exc), "url": url or default_url()}
        names = (f"detection {expected_alert}", f"detection_resolved {expected_alert}", "detection_scope")
        claim = bounds.get("claim")
        return [
            Judgement(f"{claim}: {n}" if claim else n, Verdict.HARNESS_ERROR, None, None, "s", evidence) for n in names
        ], []
    return judge_detection(
        expected_alert, injected_at, recovered_at, window_end, allowed_domains, episodes, **bounds
    ), episodes
