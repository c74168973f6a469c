"""What every alert must be, written by hand: the yardstick the promtool unit tests compare the rules to.

NOT read from system/monitoring/rules (a wrong rule must not be able to make its own expectations).
Sources, per row (`source`):

  spec      /work/shared/spec/ecoeco-design.md section 3: failure point list and the stated detections
            (F1 `for 1m` WasteAPIDown, F4 `for 2m`, F7 `for 2m`, F11 `for 1m`, F15 `for 5m`).
  docs      docs/monitoring.md "Failure point -> alert" table (alert, domain, rule and its `for`) and
            the "Other alerts" paragraph under it (severity warning of AnalyticsDBDown, RabbitMQNodeDown,
            QueueStalled, QueueBacklog; their failure point; QueueStalled 2m, QueueBacklog 5m).
  pinned    not written down anywhere yet: the value the rules have today, pinned here by hand so a
            change must touch this file too. Which values those are is said in `pinned`.

The design document gives no severities at all, and docs/monitoring.md only names the warnings of
its "Other alerts" paragraph: every other severity is pinned. Summaries are pinned throughout (no
document words them); `{label}` stands for the alert's sample label of that name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SEVERITIES = frozenset({"critical", "warning"})
DOMAINS = frozenset({"waste", "pipeline", "auth", "userinfo", "location", "recycle", "chat"})
FAILURE_POINTS = frozenset({f"F{i}" for i in range(1, 18)} | {"none"})


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str
    failure_point: str  # F1..F17, or "none" for an isolation / collateral-damage alert
    domain: str  # a domain, or "" when it depends on a sample label (see domain_by)
    for_: str  # the `for:` window in design (production) time; "0s": fires at the first evaluation
    summary: str  # the summary annotation, `{label}` filled from the alert's sample labels
    source: str  # where severity / domain / failure point / for come from (see the module docstring)
    pinned: str = ""  # which fields no document states
    domain_by: tuple[str, Mapping[str, str]] | None = None  # (sample label, its value -> domain)

    def domain_for(self, sample: Mapping[str, str]) -> str:
        """The expected `domain` label of an alert with these sample labels."""
        if self.domain_by is None:
            return self.domain
        label, table = self.domain_by
        value = sample.get(label, "")
        if value not in table:
            raise KeyError(f"{self.name}: no expected domain for {label}={value!r}")
        return table[value]

    def summary_for(self, sample: Mapping[str, str]) -> str:
        return self.summary.format_map(_Blank(sample))

    def labels_for(self, sample: Mapping[str, str]) -> dict[str, str]:
        """Every label the firing alert must carry: the sample's, plus severity, failure_point, domain."""
        return {
            **sample,
            "severity": self.severity,
            "failure_point": self.failure_point,
            "domain": self.domain_for(sample),
        }


class _Blank(dict[str, str]):
    """format_map that renders a missing label as '' (what Prometheus does for {{ $labels.x }})."""

    def __missing__(self, key: str) -> str:
        return ""


_PG_DOMAIN = {
    "ecoeco_waste": "waste",
    "ecoeco_auth": "auth",
    "ecoeco_chat": "chat",
    "ecoeco_location": "location",
    "ecoeco_analytics": "recycle",
}
_SEV = "severity"
_FOR_ISO = "for (by analogy with F1-F3 / F11-F12: the same rule for another service)"


def _a(
    name: str,
    severity: str,
    fp: str,
    domain: str,
    for_: str,
    summary: str,
    source: str,
    pinned: str = "",
    domain_by: tuple[str, Mapping[str, str]] | None = None,
) -> Alert:
    return Alert(name, severity, fp, domain, for_, summary, source, pinned, domain_by)


TABLE: tuple[Alert, ...] = (
    # API layer
    _a("WasteAPIDown", "critical", "F1", "waste", "1m", "waste-api is down ({instance})", "spec + docs", _SEV),
    _a("AuthAPIDown", "critical", "F2", "auth", "1m", "auth-api is down ({instance})", "docs", _SEV),
    _a("ChatAPIDown", "critical", "F3", "chat", "1m", "chat-llm-api is down ({instance})", "docs", _SEV),
    _a(
        "UserinfoAPIDown",
        "critical",
        "none",
        "userinfo",
        "1m",
        "userinfo-api is down ({instance})",
        "docs (Other alerts)",
        f"{_SEV}, {_FOR_ISO}",
    ),
    _a(
        "LocationAPIDown",
        "critical",
        "none",
        "location",
        "1m",
        "location-api is down ({instance})",
        "docs (Other alerts)",
        f"{_SEV}, {_FOR_ISO}",
    ),
    _a(
        "RecycleAPIDown",
        "critical",
        "none",
        "recycle",
        "1m",
        "recycle-api is down ({instance})",
        "docs (Other alerts)",
        f"{_SEV}, {_FOR_ISO}",
    ),
    # queue layer
    _a(
        "RabbitMQDown",
        "critical",
        "F4",
        "pipeline",
        "2m",
        "RabbitMQ cluster is down: no node answers",
        "spec + docs",
        _SEV,
    ),
    _a(
        "RabbitMQNodeDown",
        "warning",
        "F4",
        "pipeline",
        "1m",
        "RabbitMQ node {instance} is down",
        "docs (Other alerts)",
        "domain, for",
    ),
    _a("QueueDeadLettering", "warning", "F5", "pipeline", "0s", "Messages are arriving in {queue}", "docs", _SEV),
    _a(
        "QueueStalled",
        "warning",
        "F5",
        "pipeline",
        "2m",
        "{queue} holds messages and has no consumer",
        "docs (Other alerts)",
        "domain",
    ),
    _a(
        "QueueBacklog",
        "warning",
        "F5",
        "pipeline",
        "5m",
        "{queue} holds more than 1000 messages",
        "docs (Other alerts)",
        "domain",
    ),
    _a("MessageLossRisk", "warning", "F6", "pipeline", "0s", "Messages can be lost: {cause}", "docs", _SEV),
    # worker layer
    _a(
        "WorkerStorageDown",
        "critical",
        "F7",
        "pipeline",
        "2m",
        "Worker-Storage is down ({instance})",
        "spec + docs",
        _SEV,
    ),
    _a("WorkerAIDown", "critical", "F8", "pipeline", "2m", "Worker-AI is down ({instance})", "docs", _SEV),
    _a("WALCorruption", "critical", "F9", "pipeline", "0s", "WAL damaged or failing on {job}", "docs", _SEV),
    _a(
        "WALSyncFailing", "warning", "F10", "pipeline", "1m", "WAL to PostgreSQL sync is failing on {job}", "docs", _SEV
    ),
    _a("DiskFull", "critical", "F14", "pipeline", "0s", "WAL disk full or WAL writes failing on {job}", "docs", _SEV),
    # database layer
    _a("WasteDBDown", "critical", "F11", "waste", "1m", "ecoeco_waste is down ({pg_server})", "spec + docs", _SEV),
    _a("AuthDBDown", "critical", "F12", "auth", "1m", "ecoeco_auth is down ({pg_server})", "docs", _SEV),
    _a(
        "ChatDBDown",
        "critical",
        "none",
        "chat",
        "1m",
        "ecoeco_chat is down ({pg_server})",
        "docs (Other alerts)",
        f"{_SEV}, domain, {_FOR_ISO}",
    ),
    _a(
        "LocationDBDown",
        "critical",
        "none",
        "location",
        "1m",
        "ecoeco_location is down ({pg_server})",
        "docs (Other alerts)",
        f"{_SEV}, domain, {_FOR_ISO}",
    ),
    _a(
        "AnalyticsDBDown",
        "warning",
        "none",
        "recycle",
        "1m",
        "ecoeco_analytics (replica) is down ({pg_server})",
        "docs (Other alerts)",
        _FOR_ISO,
    ),
    _a(
        "DBPoolExhausted",
        "warning",
        "F13",
        "",
        "1m",
        "{database} uses 90% or more of max_connections",
        "docs",
        f"{_SEV}; domain of databases other than ecoeco_waste (docs: 'per database')",
        domain_by=("database", _PG_DOMAIN),
    ),
    # external dependencies
    _a("GPT5APIDown", "critical", "F15", "pipeline", "5m", "GPT-5 Vision calls fail on {job}", "spec + docs", _SEV),
    _a(
        "GPT4oMiniAPIDown",
        "critical",
        "F16",
        "",
        "5m",
        "GPT-4o mini calls fail on {job}",
        "docs",
        _SEV,
        domain_by=("job", {"worker-ai": "pipeline", "chat-llm-api": "chat"}),
    ),
    _a("S3Down", "critical", "F17", "pipeline", "1m", "S3 uploads fail on {job}", "docs", _SEV),
)

BY_NAME: dict[str, Alert] = {a.name: a for a in TABLE}


def table_problems() -> list[str]:
    """The table's own consistency: unique names, known values, every failure point covered."""
    out = [f"{a.name}: listed twice" for a in TABLE if sum(b.name == a.name for b in TABLE) > 1]
    for a in TABLE:
        if a.severity not in SEVERITIES:
            out.append(f"{a.name}: severity {a.severity!r}")
        if a.failure_point not in FAILURE_POINTS:
            out.append(f"{a.name}: failure point {a.failure_point!r}")
        domains = set(a.domain_by[1].values()) if a.domain_by else {a.domain}
        if not domains <= DOMAINS:
            out.append(f"{a.name}: domain {sorted(domains)}")
    missing = FAILURE_POINTS - {"none"} - {a.failure_point for a in TABLE}
    out += [f"{fp}: no alert" for fp in sorted(missing)]
    return out
