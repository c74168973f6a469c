"""promtool unit tests for every alert rule, generated for any rendered time scale.

Each Case gives input series twice: `fail(t)` (the failure the alert must catch) and `ok(t)`
(a healthy system, which must stay quiet). t is seconds of the rendered (scaled) run. From one
case the generator writes three promtool tests:

  fires     failing series from t=0: no alert at t=0 when the alert has a `for`; still pending one
            evaluation before `for` has passed; firing, with exactly the expected labels and
            summary, once `for` plus the longest range have passed;
  quiet     healthy series for the same time: no alert;
  resolves  failing, then healthy (counters hold their last value): no alert at the end.

The expected `for`, severity, failure_point, domain and summary come from the hand-written
tests/monitoring/alert_table.py, never from the rule under test: a rule with a wrong label, summary
or window fails its promtool test. (The description annotation is still copied from the rule:
promtool compares all annotations and no table words the descriptions.)

QuietCase: series that look alarming but must NOT trigger this alert (e.g. one RabbitMQ node
down is not RabbitMQDown, a different database down is not WasteDBDown).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from system.monitoring.render import Timing, format_duration, parse_duration
from tests.monitoring.alert_table import BY_NAME

Fn = Callable[[float], float | None]


@dataclass(frozen=True)
class Series:
    selector: str  # promtool series notation: name{label="value",...}
    fail: Fn
    ok: Fn
    counter: bool = False  # on recovery, hold the value reached while failing


@dataclass(frozen=True)
class Case:
    alert: str
    name: str
    series: tuple[Series, ...]
    labels: tuple[dict[str, str], ...]  # sample labels of each expected alert (no __name__)
    templated: dict[str, str] = field(default_factory=dict)  # expected values of templated rule labels


@dataclass(frozen=True)
class QuietCase:
    alert: str
    name: str
    series: tuple[tuple[str, Fn], ...]


def const(v: float) -> Fn:
    return lambda t: v


def per_s(rate: float, start: float = 0.0) -> Fn:
    return lambda t: start + rate * t


def gauge(selector: str, fail: float, ok: float) -> Series:
    return Series(selector, const(fail), const(ok))


def counter(selector: str, fail_rate: float, ok_rate: float = 0.0, start: float = 10.0) -> Series:
    return Series(selector, per_s(fail_rate, start), per_s(ok_rate, start), counter=True)


def _sel(name: str, **labels: str) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _up_case(alert: str, job: str, instance: str) -> Case:
    return Case(
        alert,
        "target down",
        (gauge(_sel("up", job=job, instance=instance), 0, 1),),
        ({"job": job, "instance": instance},),
    )


_PG = {
    "ecoeco_auth": ("pg-exporter:9187", "pg-auth"),
    "ecoeco_waste": ("pg-exporter:9188", "pg-waste"),
    "ecoeco_chat": ("pg-exporter:9189", "pg-chat"),
    "ecoeco_location": ("pg-exporter:9190", "pg-location"),
    "ecoeco_analytics": ("pg-exporter:9191", "pg-analytics"),
}


def _pg_labels(db: str) -> dict[str, str]:
    instance, server = _PG[db]
    return {"job": "postgres", "instance": instance, "database": db, "pg_server": server}


def _db_cases(alert: str, db: str) -> list[Case | QuietCase]:
    target = _pg_labels(db)
    exported = dict(target)  # pg_up carries no `server` label (seen on 0.11.1)
    other = "ecoeco_chat" if db != "ecoeco_chat" else "ecoeco_auth"
    return [
        # the exporter answers and says the server is down
        Case(
            alert, "pg_up 0", (gauge(_sel("pg_up", **exported), 0, 1), gauge(_sel("up", **target), 1, 1)), (exported,)
        ),
        # the exporter's scrape timed out (a hung database): no pg_up at all
        Case(
            alert,
            "scrape timeout",
            (
                Series(_sel("pg_up", **exported), const(None), const(1)),  # type: ignore[arg-type]
                gauge(_sel("up", **target), 0, 1),
            ),
            (target,),
        ),
        QuietCase(
            alert,
            "another database down",
            (
                (_sel("pg_up", **{**_pg_labels(other), "server": "x:5432"}), const(0)),
                (_sel("up", **_pg_labels(other)), const(1)),
                (_sel("pg_up", **exported), const(1)),
                (_sel("up", **target), const(1)),
            ),
        ),
    ]


def _pool_series(db: str, busy: float, max_conn: float = 50) -> list[tuple[str, Fn]]:
    labels = {**_pg_labels(db), "server": f"{_PG[db][1]}:5432"}
    return [
        (_sel("pg_stat_activity_count", **labels, datname=db, state="idle"), const(busy - 6)),
        (_sel("pg_stat_activity_count", **labels, datname=db, state="active"), const(6)),
        (_sel("pg_stat_activity_count", **labels, datname="postgres", state="idle"), const(0)),
        (_sel("pg_settings_max_connections", **labels), const(max_conn)),
    ]


def _pool_case(db: str, domain: str) -> Case:
    fail = dict(_pool_series(db, 46))
    ok = dict(_pool_series(db, 10))
    series = tuple(Series(s, fail[s], ok[s]) for s in fail)
    return Case(
        "DBPoolExhausted", f"{db} 46 of 50", series, ({"database": db, "pg_server": _PG[db][1]},), {"domain": domain}
    )


_RQ = {"job": "rabbitmq-queues", "instance": "rabbitmq-1:15692", "vhost": "/"}
_RN = {"job": "rabbitmq", "instance": "rabbitmq-1:15692"}
_W = {"job": "worker-storage", "instance": "worker-storage:9090"}
_AI = {"job": "worker-ai", "instance": "worker-ai:9090"}


def cases() -> list[Case | QuietCase]:
    out: list[Case | QuietCase] = [
        _up_case("WasteAPIDown", "waste-api", "waste-api:8000"),
        _up_case("AuthAPIDown", "auth-api", "auth-api:8000"),
        _up_case("ChatAPIDown", "chat-llm-api", "chat-llm-api:8000"),
        _up_case("UserinfoAPIDown", "userinfo-api", "userinfo-api:8000"),
        _up_case("LocationAPIDown", "location-api", "location-api:8000"),
        _up_case("RecycleAPIDown", "recycle-api", "recycle-api:8000"),
        QuietCase(
            "WasteAPIDown",
            "another API down",
            (
                (_sel("up", job="auth-api", instance="auth-api:8000"), const(0)),
                (_sel("up", job="waste-api", instance="waste-api:8000"), const(1)),
            ),
        ),
        _up_case("WorkerStorageDown", "worker-storage", "worker-storage:9090"),
        _up_case("WorkerAIDown", "worker-ai", "worker-ai:9090"),
        *(
            Case(
                alert,
                "process up, a consumer not connected",
                (
                    gauge(_sel("up", job=job, instance=f"{job}:9090"), 1, 1),
                    gauge(_sel("worker_consumer_up", job=job, instance=f"{job}:9090", task_name=stage), 0, 1),
                ),
                ({"job": job, "instance": f"{job}:9090"},),
            )
            for alert, job, stage in (
                ("WorkerStorageDown", "worker-storage", "image_uploader"),
                ("WorkerAIDown", "worker-ai", "gpt5_analyzer"),
            )
        ),
        # RabbitMQ
        Case(
            "RabbitMQDown",
            "all nodes down",
            tuple(gauge(_sel("up", job="rabbitmq", instance=f"rabbitmq-{n}:15692"), 0, 1) for n in (1, 2, 3)),
            ({},),
        ),
        QuietCase(
            "RabbitMQDown",
            "one node down",
            (
                (_sel("up", job="rabbitmq", instance="rabbitmq-1:15692"), const(0)),
                (_sel("up", job="rabbitmq", instance="rabbitmq-2:15692"), const(1)),
                (_sel("up", job="rabbitmq", instance="rabbitmq-3:15692"), const(1)),
            ),
        ),
        Case(
            "RabbitMQNodeDown",
            "node 2 down",
            (
                gauge(_sel("up", job="rabbitmq", instance="rabbitmq-1:15692"), 1, 1),
                gauge(_sel("up", job="rabbitmq", instance="rabbitmq-2:15692"), 0, 1),
            ),
            ({"job": "rabbitmq", "instance": "rabbitmq-2:15692"},),
        ),
        Case(
            "QueueDeadLettering",
            "DLQ grows",
            (
                Series(
                    _sel("rabbitmq_detailed_queue_messages", **_RQ, queue="dead_letter_queue"),
                    per_s(1, 7),
                    const(7),
                    counter=True,
                ),
            ),
            ({"queue": "dead_letter_queue"},),
        ),
        Case(
            "QueueStalled",
            "no consumer",
            (
                gauge(_sel("rabbitmq_detailed_queue_messages", **_RQ, queue="vision_analysis_queue"), 5, 5),
                gauge(_sel("rabbitmq_detailed_queue_consumers", **_RQ, queue="vision_analysis_queue"), 0, 1),
            ),
            ({"queue": "vision_analysis_queue"},),
        ),
        QuietCase(
            "QueueStalled",
            "empty queue without consumer",
            (
                (_sel("rabbitmq_detailed_queue_messages", **_RQ, queue="auth_queue"), const(0)),
                (_sel("rabbitmq_detailed_queue_consumers", **_RQ, queue="auth_queue"), const(0)),
            ),
        ),
        Case(
            "QueueBacklog",
            "1500 messages",
            (gauge(_sel("rabbitmq_detailed_queue_messages", **_RQ, queue="user_input_queue"), 1500, 10),),
            ({"queue": "user_input_queue"},),
        ),
        Case(
            "MessageLossRisk",
            "transient messages",
            (
                gauge(_sel("rabbitmq_detailed_queue_messages", **_RQ, queue="user_input_queue"), 3, 3),
                gauge(_sel("rabbitmq_detailed_queue_messages_persistent", **_RQ, queue="user_input_queue"), 0, 3),
            ),
            ({"queue": "user_input_queue", "cause": "transient_messages_queued"},),
        ),
        Case(
            "MessageLossRisk",
            "publishes without confirms",
            (
                counter(_sel("rabbitmq_global_messages_received_total", **_RN, protocol="amqp091"), 2, 2),
                counter(_sel("rabbitmq_global_messages_received_confirm_total", **_RN, protocol="amqp091"), 1, 2),
            ),
            ({"cause": "publishes_without_confirms"},),
        ),
        Case(
            "MessageLossRisk",
            "unroutable dropped",
            (counter(_sel("rabbitmq_global_messages_unroutable_dropped_total", **_RN, protocol="amqp091"), 1),),
            ({"cause": "unroutable_dropped"},),
        ),
        Case(
            "MessageLossRisk",
            "auto-ack deliveries",
            (
                counter(
                    _sel(
                        "rabbitmq_global_messages_delivered_consume_auto_ack_total",
                        **_RN,
                        protocol="amqp091",
                        queue_type="rabbit_classic_queue",
                    ),
                    1,
                ),
            ),
            ({"cause": "auto_ack_deliveries"},),
        ),
        # Worker WAL
        Case("WALCorruption", "write errors", (counter(_sel("wal_write_errors_total", **_W), 0.5, 0, 3),), (_W,)),
        Case(
            "WALCorruption", "commits lost from a damaged -wal", (gauge(_sel("wal_lost_commits", **_W), 7, 0),), (_W,)
        ),
        QuietCase("WALCorruption", "no commit lost", ((_sel("wal_lost_commits", **_W), const(0)),)),
        QuietCase(
            "WALCorruption",
            "disk-full errors once a reason label exists",
            ((_sel("wal_write_errors_total", **_W, reason="disk_full"), per_s(1)),),
        ),
        Case("DiskFull", "write errors", (counter(_sel("wal_write_errors_total", **_AI), 0.5, 0, 3),), (_AI,)),
        Case("DiskFull", "WAL filesystem full", (gauge(_sel("wal_disk_free_bytes", **_AI), 0, 50e6),), (_AI,)),
        QuietCase("DiskFull", "WAL filesystem with room", ((_sel("wal_disk_free_bytes", **_AI), const(50e6)),)),
        # every service imports system.metrics: an API exposes the gauge unset (0), which is no disk
        QuietCase(
            "DiskFull",
            "an API's unset gauge",
            ((_sel("wal_disk_free_bytes", job="waste-api", instance="waste-api:8000"), const(0)),),
        ),
        QuietCase(
            "DiskFull",
            "corruption errors once a reason label exists",
            ((_sel("wal_write_errors_total", **_AI, reason="corrupt"), per_s(1)),),
        ),
        Case(
            "WALSyncFailing",
            "sync failures",
            (
                counter(_sel("wal_sync_failures_total", **_AI), 0.5),
                gauge(_sel("wal_unsynced_tasks", **_AI), 0, 0),
            ),
            ({**_AI, "cause": "sync_failures"},),
        ),
        Case(
            "WALSyncFailing",
            "unsynced rows keep growing",
            (
                counter(_sel("wal_sync_failures_total", **_W), 0),
                Series(_sel("wal_unsynced_tasks", **_W), per_s(2, 1), const(3), counter=False),
            ),
            ({**_W, "cause": "backlog_growing"},),
        ),
        # under load the backlog is never empty for seconds, then the sync drains it: at scale 0.02 a
        # 6 s window once alerted on that; only a backlog that never drains for BACKLOG_MIN_S is a stall
        QuietCase(
            "WALSyncFailing",
            "a growing backlog that the sync drains every 20 s",
            (
                (_sel("wal_sync_failures_total", **_W), const(0)),
                (_sel("wal_unsynced_tasks", **_W), lambda t: t % 20),
            ),
        ),
        # Databases
        *_db_cases("WasteDBDown", "ecoeco_waste"),
        *_db_cases("AuthDBDown", "ecoeco_auth"),
        *_db_cases("ChatDBDown", "ecoeco_chat"),
        *_db_cases("LocationDBDown", "ecoeco_location"),
        *_db_cases("AnalyticsDBDown", "ecoeco_analytics"),
        _pool_case("ecoeco_waste", "waste"),
        _pool_case("ecoeco_analytics", "recycle"),
        QuietCase("DBPoolExhausted", "44 of 50 busy", tuple(_pool_series("ecoeco_waste", 44))),
        # External dependencies
        Case("GPT5APIDown", "1 error/s", (counter(_sel("gpt5_api_errors_total", **_AI), 1, 0.1),), (_AI,)),
        QuietCase("GPT5APIDown", "0.3 errors/s", ((_sel("gpt5_api_errors_total", **_AI), per_s(0.3)),)),
        Case(
            "GPT4oMiniAPIDown",
            "worker-ai",
            (counter(_sel("gpt4o_mini_api_errors_total", **_AI), 1),),
            (_AI,),
            {"domain": "pipeline"},
        ),
        Case(
            "GPT4oMiniAPIDown",
            "chat-llm-api",
            (counter(_sel("gpt4o_mini_api_errors_total", job="chat-llm-api", instance="chat-llm-api:8000"), 1),),
            ({"job": "chat-llm-api", "instance": "chat-llm-api:8000"},),
            {"domain": "chat"},
        ),
        Case("S3Down", "1 error/s", (counter(_sel("s3_errors_total", **_W), 1),), (_W,)),
        Case(
            "S3Down",
            "S3 frozen: no errors, no answer",
            (counter(_sel("s3_errors_total", **_W), 0), gauge(_sel("s3_up", **_W), 0, 1)),
            (_W,),
        ),
        # every service exports the gauge (one metrics module); only worker-storage probes S3
        QuietCase(
            "S3Down",
            "s3_up of a service that does not probe",
            ((_sel("s3_up", job="waste-api", instance="waste-api:8000"), const(0)),),
        ),
    ]
    return out


# --- generation ------------------------------------------------------------------------

_RANGE_IN_EXPR = re.compile(r"\[([0-9a-z.]+)(?::[0-9a-z.]*)?\]")
_LABEL_REF = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def load_rules(rules_dir: Path) -> dict[str, dict[str, Any]]:
    """Alert name -> rule (from rendered rule files)."""
    rules: dict[str, dict[str, Any]] = {}
    for path in sorted(rules_dir.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    rules[rule["alert"]] = rule
    return rules


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _values(fn_of_t: Callable[[float], float | None], n: int, step_ms: int) -> str:
    out = []
    for i in range(n):
        v = fn_of_t(i * step_ms / 1000)
        out.append("_" if v is None else (str(int(v)) if float(v).is_integer() else f"{v:.6g}"))
    return " ".join(out)


def _expected(rule: dict[str, Any], sample: dict[str, str], templated: dict[str, str]) -> dict[str, Any]:
    """The alert promtool must see: labels and summary from alert_table (not from `rule`)."""
    want = BY_NAME.get(rule["alert"])
    if want is None:
        raise KeyError(f"{rule['alert']} is not in tests/monitoring/alert_table.py")
    labels = want.labels_for(sample)
    for k, v in templated.items():  # the case's own expectation of a templated label must agree
        if labels.get(k) != v:
            raise ValueError(f"{want.name}: case expects {k}={v!r}, alert_table says {labels.get(k)!r}")
    annotations = {
        k: _LABEL_REF.sub(lambda m: sample.get(m.group(1), ""), str(v))
        for k, v in (rule.get("annotations") or {}).items()
        if k != "summary"
    }
    annotations["summary"] = want.summary_for(sample)
    return {"exp_labels": labels, "exp_annotations": annotations}


def expected_for_s(alert: str, timing: Timing) -> float:
    """The alert's `for` from alert_table, scaled the way render.py scales every `${for:...}`."""
    return timing.for_s(parse_duration(BY_NAME[alert].for_))


def _phased(s: Series, cut: float) -> Callable[[float], float | None]:
    """Failing until `cut`, then healthy (a counter holds the value it reached)."""

    def fn(t: float) -> float | None:
        if t <= cut:
            return s.fail(t)
        return s.fail(cut) if s.counter else s.ok(t)

    return fn


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def build_tests(rules: dict[str, dict[str, Any]], timing: Timing) -> dict[str, list[dict[str, Any]]]:
    """Alert name -> promtool `tests:` entries for all its cases (`for` from alert_table at `timing`)."""
    step = _ms(timing.evaluation_interval_s)
    by_alert: dict[str, list[dict[str, Any]]] = {}
    for case in cases():
        rule = rules.get(case.alert)
        if rule is None:
            raise KeyError(f"case for unknown alert {case.alert}")
        for_ms = _ms(expected_for_s(case.alert, timing))
        ranges = [_ms(parse_duration(r)) for r in _RANGE_IN_EXPR.findall(rule["expr"])]
        range_ms = max(ranges, default=0)
        fire_at = math.ceil((for_ms + range_ms) / step) * step + 2 * step
        n = fire_at // step + 1
        tests = by_alert.setdefault(case.alert, [])
        if isinstance(case, QuietCase):
            tests.append(
                {
                    "name": f"{case.alert}: quiet: {case.name}",
                    "interval": format_duration(step / 1000),
                    "input_series": [{"series": s, "values": _values(fn, n, step)} for s, fn in case.series],
                    "alert_rule_test": [
                        {"eval_time": format_duration(fire_at / 1000), "alertname": case.alert, "exp_alerts": []}
                    ],
                }
            )
            continue
        expected = [_expected(rule, lab, case.templated) for lab in case.labels]
        checks: list[dict[str, Any]] = []
        if for_ms > 0:  # pending, not firing, at the first evaluation
            checks.append({"eval_time": "0s", "alertname": case.alert, "exp_alerts": []})
        if for_ms > step:
            pending = ((for_ms - 1) // step) * step  # last evaluation before `for` has passed
            checks.append({"eval_time": format_duration(pending / 1000), "alertname": case.alert, "exp_alerts": []})
        checks.append({"eval_time": format_duration(fire_at / 1000), "alertname": case.alert, "exp_alerts": expected})
        interval = format_duration(step / 1000)
        tests.append(
            {
                "name": f"{case.alert}: fires: {case.name}",
                "interval": interval,
                "input_series": [{"series": s.selector, "values": _values(s.fail, n, step)} for s in case.series],
                "alert_rule_test": checks,
            }
        )
        tests.append(
            {
                "name": f"{case.alert}: quiet: healthy ({case.name})",
                "interval": interval,
                "input_series": [{"series": s.selector, "values": _values(s.ok, n, step)} for s in case.series],
                "alert_rule_test": [
                    {"eval_time": format_duration(fire_at / 1000), "alertname": case.alert, "exp_alerts": []}
                ],
            }
        )
        # resolves: failing until fire_at, then healthy long enough for every range to forget it
        recover_n = n + (range_ms + for_ms) // step + 3
        end = (recover_n - 1) * step

        tests.append(
            {
                "name": f"{case.alert}: resolves: {case.name}",
                "interval": interval,
                "input_series": [
                    {"series": s.selector, "values": _values(_phased(s, fire_at / 1000), recover_n, step)}
                    for s in case.series
                ],
                "alert_rule_test": [
                    {"eval_time": format_duration(fire_at / 1000), "alertname": case.alert, "exp_alerts": expected},
                    {"eval_time": format_duration(end / 1000), "alertname": case.alert, "exp_alerts": []},
                ],
            }
        )
    return by_alert


class _NoAliases(yaml.SafeDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_test_files(rendered: Path, interval_s: float) -> dict[str, Path]:
    """Write tests/<Alert>.test.yml under `rendered` (a render.py output); alert -> path."""
    rules = load_rules(rendered / "rules")
    scale = json.loads((rendered / "timing.json").read_text())["scale"]
    timing = Timing.for_scale(scale)
    if timing.evaluation_interval_s != interval_s:
        raise ValueError(f"evaluation interval {interval_s} s is not scale {scale}'s {timing.evaluation_interval_s} s")
    rule_files = [f"../rules/{p.name}" for p in sorted((rendered / "rules").glob("*.yml"))]
    out_dir = rendered / "tests"
    out_dir.mkdir(exist_ok=True)
    paths: dict[str, Path] = {}
    for alert, tests in build_tests(rules, timing).items():
        path = out_dir / f"{_slug(alert)}.test.yml"
        doc: dict[str, Any] = {
            "rule_files": rule_files,
            "evaluation_interval": format_duration(interval_s),
            "tests": tests,
        }
        path.write_text(yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, width=10_000))
        paths[alert] = path
    return paths
