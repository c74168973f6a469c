"""Where a scenario's CPU went and which error lines its services logged: the evidence a verdict
that did not hold carries into the CI log (harness/cpu.py, harness/service_logs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.record import ScenarioRecord, Timeline
from core.verdict import Judgement, Verdict
from faults.target import Project
from harness.cpu import CpuMeter, HostTimes, Reading, container_cpu_s, host_times, usage_between
from harness.service_logs import error_lines, keep_logs
from scenarios.outcome import explain

STAT = "cpu  1000 0 500 8000 100 0 50 250 0 0\ncpu0 500 0 250 4000 50 0 25 125 0 0\n"


def test_proc_stat_busy_steal_and_iowait_in_seconds() -> None:
    assert host_times(STAT, hz=100) == HostTimes(busy=15.5, steal=2.5, iowait=1.0)
    with pytest.raises(ValueError):
        host_times("intr 1 2 3\n", hz=100)


def test_container_cpu_from_cgroup_v1_and_v2(tmp_path: Path) -> None:
    v1 = tmp_path / "cpuacct" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "cpuacct.usage").write_text("2500000000\n")
    assert container_cpu_s("abc", tmp_path) == 2.5
    v2 = tmp_path / "system.slice" / "docker-def.scope"
    v2.mkdir(parents=True)
    (v2 / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert container_cpu_s("def", tmp_path) == 1.5
    assert container_cpu_s("missing", tmp_path) is None


def test_usage_names_the_busiest_containers_and_what_ran_outside_them() -> None:
    a = Reading(0.0, HostTimes(10.0, 1.0, 0.0), {"rabbitmq-1": 1.0, "worker-ai": 5.0, "s3": 2.0})
    b = Reading(10.0, HostTimes(28.0, 3.0, 0.5), {"rabbitmq-1": 13.0, "worker-ai": 6.0, "s3": 2.1})
    use = usage_between(a, b)
    assert use["host_busy"] == 1.8 and use["steal"] == 0.2 and use["iowait"] == 0.05
    assert use["containers"] == {"rabbitmq-1": 1.2, "worker-ai": 0.1}  # s3's 0.01 core is idle noise
    assert use["outside_containers"] == pytest.approx(0.49, abs=0.01)


def test_the_meter_reports_every_ended_phase_and_survives_a_missing_cgroup() -> None:
    clock = iter([HostTimes(0, 0, 0), HostTimes(4, 0, 0), HostTimes(6, 0, 0)])
    used = {"a": iter([0.0, 2.0, 2.0]), "b": iter([None, None, None])}
    meter = CpuMeter(
        lambda: {"svc-a": ["a"], "svc-b": ["b"]},
        read_host=lambda: next(clock),
        read_container=lambda i: next(used[i]),
        clock=iter([0.0, 2.0, 4.0]).__next__,
    )
    for phase in ("hold", "recovery", "done"):
        meter.mark(phase)
    phases = meter.by_phase()
    assert list(phases) == ["hold", "recovery"]
    hold, recovery = phases["hold"]["containers"], phases["recovery"]["containers"]
    assert isinstance(hold, dict) and list(hold) == ["svc-a"]  # svc-b has no cgroup: left out
    assert recovery == {}  # svc-a idle in the second phase


def test_error_lines_gravest_first_once_each_and_only_errors() -> None:
    log = "\n".join(
        [
            "2026-12-03T17:38:24.19Z 2026-12-03 17:38:24.194957+00:00 [error] <0.223.0> Feature flags: error",
            "2026-12-03T17:38:24.19Z 2026-12-03 17:38:24.194957+00:00 [error] <0.223.0>   {badmap,",
            "2026-12-03T17:38:24.20Z 2026-12-03 17:38:24.208126+00:00 [error] <0.223.0> BOOT FAILED",
            "2026-12-03T17:38:25.00Z 2026-12-03 17:38:25,000 consumer-0 WARNING broker connection lost",
            "2026-12-03T17:38:26.00Z 2026-12-03 17:38:26,000 sync ERROR batch of 12 refused by 'pg-waste'",
            "2026-12-03T17:38:27.00Z 2026-12-03 17:38:27,000 sync ERROR batch of 40 refused by 'pg-waste'",
        ]
    )
    got = error_lines(log)
    assert len(got) == 3 and "BOOT FAILED" in got[0]  # the gravest first, each message once
    assert got[1].endswith("Feature flags: error") and "{badmap" not in "".join(got)
    assert got[2].endswith("batch of 12 refused by 'pg-waste' (x2)")
    assert error_lines(log, limit=1) == [got[0]]
    assert error_lines("2026-12-03T17:38:25Z all fine\n") == []


def _record(verdict: Verdict, parameters: dict[str, object]) -> ScenarioRecord:
    j = Judgement("rto:pipeline", verdict, "not recovered", 120, "s", {})
    return ScenarioRecord(
        fid="F4",
        title="broker",
        time_scale=0.02,
        timeline=Timeline(t0_unix=0.0, end_s=100.0),
        verdict=verdict,
        judgements=[j],
        parameters=parameters,
    )


def test_a_verdict_that_did_not_hold_explains_deaths_cpu_and_log_errors() -> None:
    params = {
        "down_spans_s": {"rabbitmq-1": [[11.5, 24.1], [45.6, 46.5]]},
        "cpu_by_phase": {
            "recovery": {
                "wall_s": 60.0,
                "host_busy": 1.9,
                "steal": 0.4,
                "iowait": 0.0,
                "outside_containers": 0.3,
                "containers": {"rabbitmq-3": 1.1},
            }
        },
        "log_errors": {"rabbitmq-1": ["... [error] BOOT FAILED"]},
        "service_logs": "F4.logs/",
    }
    text = explain(_record(Verdict.VIOLATED, params))
    assert "[45.6, 46.5]" in text and "steal 0.4" in text and "rabbitmq-3 1.1" in text
    assert "log rabbitmq-1: ... [error] BOOT FAILED" in text and "F4.logs/" in text
    assert "cpu" not in explain(_record(Verdict.HOLDS, params))  # a pass stays one line


def test_a_restarted_container_counts_from_its_new_cgroup_and_unread_ones_void_the_outside_share() -> None:
    a = Reading(0.0, HostTimes(0.0, 0.0, 0.0), {"rabbitmq-1": 50.0, "worker-ai": 1.0})
    b = Reading(10.0, HostTimes(15.0, 0.0, 0.0), {"rabbitmq-1": 4.0, "worker-ai": 2.0, "s3": 1.0})
    use = usage_between(a, b)
    assert use["containers"] == {"rabbitmq-1": 0.4, "worker-ai": 0.1}  # restarted: 4 s since, not -46
    assert use["restarted"] == ["rabbitmq-1"] and use["unread"] == ["s3"]
    assert use["outside_containers"] is None  # not known when a container was not read at both ends
    assert usage_between(a, Reading(0.5, a.host, a.containers)) == {"wall_s": 0.5}  # too short to tell


class _Container:
    def __init__(self, name: str, service: str, logs: bytes | Exception) -> None:
        self.name, self.labels, self._logs = name, {"com.docker.compose.service": service}, logs

    def logs(self, **_: object) -> bytes:
        if isinstance(self._logs, Exception):
            raise self._logs
        return self._logs


class _Project:
    def __init__(self, containers: list[_Container]) -> None:
        self._containers = containers

    def all_containers(self) -> list[_Container]:
        return self._containers


def test_keep_logs_writes_each_container_and_never_raises(tmp_path: Path) -> None:
    boot = b"2026-12-03T17:38:24Z 2026-12-03 17:38:24.208126+00:00 [error] <0.223.0> BOOT FAILED\n"
    project = _Project(
        [
            _Container("ecoeco-rabbitmq-1-1", "rabbitmq-1", boot),
            _Container("ecoeco-api-1", "api", b"2026-12-03T17:38:25Z ok\n"),
            _Container("ecoeco-api-2", "api", RuntimeError("gone")),  # its logs vanished: skipped
        ]
    )
    kept = keep_logs(project, tmp_path / "F4.logs", since_unix=0)  # type: ignore[arg-type]
    assert kept == {"api": [], "rabbitmq-1": [boot.decode().strip()]}
    assert sorted(p.name for p in (tmp_path / "F4.logs").iterdir()) == ["ecoeco-api-1.log", "ecoeco-rabbitmq-1-1.log"]
    blocked = tmp_path / "file"
    blocked.write_text("")  # a folder cannot be made under a file
    assert keep_logs(project, blocked / "F4.logs", since_unix=0) == {}  # type: ignore[arg-type]


def test_odd_values_in_the_record_never_break_the_failure_text() -> None:
    params: dict[str, object] = {
        "cpu_by_phase": {"recovery": {"host_busy": "x", "containers": ["a"]}, "hold": "y"},
        "log_errors": [],
    }
    assert "cpu recovery" in explain(_record(Verdict.VIOLATED, params))
    assert "F4" in explain(_record(Verdict.VIOLATED, {"cpu_by_phase": "n/a", "log_errors": {"s3": "one line"}}))


def test_the_meter_reads_the_projects_containers_grouped_by_service() -> None:
    class Client:
        class containers:
            @staticmethod
            def list(**_: object) -> list[object]:
                rabbit = _Container("ecoeco-rabbitmq-1-1", "rabbitmq-1", b"")
                api_a, api_b = _Container("ecoeco-api-1", "api", b""), _Container("ecoeco-api-2", "api", b"")
                for c, i in ((rabbit, "r1"), (api_a, "a1"), (api_b, "a2")):
                    c.id = i  # type: ignore[attr-defined]
                return [rabbit, api_a, api_b]

    project = Project(Client(), "ecoeco")
    assert project.ids_by_service() == {"rabbitmq-1": ["r1"], "api": ["a1", "a2"]}
