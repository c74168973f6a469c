"""Every metric name this stack really exposes, from its sources.

- our services: system/metrics.py, read through prometheus_client's own exposition (so the
  `_total`, `_bucket`, `_created` suffixes are exactly what /metrics serves);
- RabbitMQ 3.10.8's rabbitmq_prometheus (/metrics and /metrics/detailed) and
  postgres_exporter 0.11.1: sample names scraped from the real processes (Debian's packages,
  run in this project's images) into exported/*.names — regenerate with
  `python3 -m system.monitoring.known_metrics` (prints how);
- Prometheus' own per-target series (up, scrape_*) and ALERTS.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "exported"

PROMETHEUS_SYNTHETIC = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
        "ALERTS",
        "ALERTS_FOR_STATE",
    }
)

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}


def names_from_exposition(text: str) -> set[str]:
    """Sample names of a text exposition, including families that have no sample yet."""
    names: set[str] = set()
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            base, kind = m.group(1), m.group(2)
            if kind == "counter":
                base = base.removesuffix("_total")
            for suffix in _SUFFIXES.get(kind, ("",)):
                names.add(base + suffix)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


@cache
def app_metric_names() -> frozenset[str]:
    """Names exposed by every API and worker process (they all import system.metrics)."""
    from prometheus_client import generate_latest

    import system.metrics  # noqa: F401  (registers the metrics in the default registry)

    return frozenset(names_from_exposition(generate_latest().decode()))


@cache
def fixture_names(name: str) -> frozenset[str]:
    path = FIXTURES / name
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


@cache
def all_known_names() -> frozenset[str]:
    return (
        app_metric_names()
        | fixture_names("rabbitmq-3.10.8.names")
        | fixture_names("postgres_exporter-0.11.1.names")
        | PROMETHEUS_SYNTHETIC
    )


if __name__ == "__main__":
    print(
        "Capture a fixture from a running exporter (names only):\n"
        "  curl -s http://HOST:15692/metrics; curl -s 'http://HOST:15692/metrics/detailed?"
        "family=queue_coarse_metrics&family=queue_consumer_count&family=queue_metrics'\n"
        "  | grep -v '^#' | sed -E 's/[{ ].*//' | grep . | sort -u > exported/rabbitmq-3.10.8.names\n"
        "  (postgres_exporter: curl -s http://HOST:9187/metrics for one database up and one down)"
    )


def scrape_jobs(prometheus_yml: Path) -> set[str]:
    """job_name of every scrape config in a rendered prometheus.yml."""
    import yaml

    doc = yaml.safe_load(Path(prometheus_yml).read_text())
    return {str(sc["job_name"]) for sc in doc.get("scrape_configs", [])}


def rule_problems(rule_files: list[Path], jobs: set[str], known: frozenset[str] | None = None) -> list[str]:
    """Why a rule could never fire: a metric nobody exposes, or a job nobody scrapes."""
    from system.monitoring.promql import job_matchers, metric_names, rule_expressions

    known = all_known_names() if known is None else known
    problems: list[str] = []
    for name, expr in rule_expressions(rule_files):
        for metric in sorted(metric_names(expr) - known):
            problems.append(f"{name}: metric {metric!r} is exposed by no target")
        for job in sorted(job_matchers(expr) - jobs):
            problems.append(f"{name}: job {job!r} is not scraped")
    return problems
