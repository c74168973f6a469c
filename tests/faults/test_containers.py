"""Crash, stop, pause and S3 outage against throwaway containers; target resolution refuses strangers."""

from __future__ import annotations

import socket
import time

import docker.errors
import pytest

from faults import Crash, CrashLoop, FaultError, Nemesis, Pause, S3Outage, Stop, took_effect
from faults.base import wait_for
from faults.crash_loop import REPLAY_RETRIES
from faults.target import COMPOSE_PROJECT, COMPOSE_SERVICE, OUR_LABEL, is_running
from harness.deaths import DeathWatch
from system.logs import SERVING
from tests.faults.conftest import PROJECT, TestProject

pytestmark = pytest.mark.integration


def test_crash_is_repaired_by_the_restart_policy(proj: TestProject) -> None:
    container = proj.run("waste-api")
    fault = Crash(proj.stack, "waste-api")
    fault.inject()
    assert took_effect(fault.evidence()), fault.evidence()
    container.reload()
    assert container.attrs["RestartCount"] >= 1  # Docker, not the harness, brought it back
    fault.heal()
    fault.heal()
    assert is_running(container)


def test_crash_loop_keeps_it_down_until_healed_then_the_policy_repairs(proj: TestProject) -> None:
    container = proj.run("waste-api")
    fault = CrashLoop(proj.stack, "waste-api")
    fault.inject()
    wait_for(lambda: fault.kills >= 2, timeout_s=20, what="the restarted process killed again")
    assert took_effect(fault.evidence()), fault.evidence()
    fault.heal()
    fault.heal()
    assert is_running(container)
    container.reload()
    assert container.attrs["RestartCount"] >= 2  # Docker's restart policy brought it back each time


def test_one_kill_without_the_loop_took_effect_even_when_the_policy_was_quick(proj: TestProject) -> None:
    container = proj.run("waste-api")
    container.reload()
    restarts = container.attrs["RestartCount"]  # the container may be an earlier test's
    fault = CrashLoop(proj.stack, "waste-api", loop=False)
    fault.inject()
    wait_for(
        lambda: is_running(container) and container.attrs["RestartCount"] > restarts,
        timeout_s=20,
        what="the restart policy brought it back",
    )
    assert fault.kills == 1 and took_effect(fault.evidence()), fault.evidence()
    fault.heal()


def test_crash_of_several_services_at_once(proj: TestProject) -> None:
    nodes = [proj.run(f"rabbitmq-{i}") for i in (1, 2, 3)]
    with Nemesis() as nemesis:
        fault = Crash(proj.stack, [f"rabbitmq-{i}" for i in (1, 2, 3)])
        nemesis.inject(fault)
        evidence = nemesis.evidence(fault)
        assert len(evidence) == 3 and took_effect(evidence), evidence
    assert all(is_running(n) for n in nodes)


def test_a_frozen_service_killed_at_heal_dies_on_thaw_and_the_policy_repairs_it(proj: TestProject) -> None:
    from faults.crash import CrashAtHeal
    from faults.kinds import AllOf

    container = proj.run("rabbitmq-1")
    container.reload()
    started = container.attrs["State"]["StartedAt"]
    fault = AllOf([Pause(proj.stack, "rabbitmq-1"), CrashAtHeal(proj.stack, ["rabbitmq-1"], await_restart=False)])
    fault.inject()
    assert took_effect(fault.evidence())
    fault.heal()  # the kill first (pending while frozen), then the thaw
    wait_for(
        lambda: container.reload() or container.attrs["State"]["StartedAt"] != started,
        timeout_s=20,
        what="the killed node started again by its restart policy",
    )
    assert container.attrs["RestartCount"] >= 1 and fault.released_at() is None  # RTO from heal (the thaw)


def test_crash_heal_starts_what_no_policy_restarts(proj: TestProject) -> None:
    container = proj.run("worker-ai", restart="no")
    fault = Crash(proj.stack, "worker-ai", grace_s=1.0)
    fault.inject()
    assert took_effect(fault.evidence())
    assert not is_running(container)
    fault.heal()
    assert is_running(container)


def test_crash_of_a_stopped_service_is_refused(proj: TestProject) -> None:
    proj.run("auth-api").stop(timeout=5)
    with pytest.raises(FaultError, match="not running"):
        Crash(proj.stack, "auth-api").inject()


def test_stop_until_healed(proj: TestProject) -> None:
    container = proj.run("pg-waste")
    fault = Stop(proj.stack, "pg-waste")
    fault.inject()
    assert took_effect(fault.evidence())
    container.reload()
    assert container.status == "exited"  # a manual stop: the restart policy leaves it down
    fault.heal()
    fault.heal()
    assert is_running(container)
    assert not took_effect(fault.evidence())


def test_pause_freezes_until_healed(proj: TestProject) -> None:
    container = proj.run("pg-auth")
    fault = Pause(proj.stack, "pg-auth")
    fault.inject()
    assert took_effect(fault.evidence())
    with pytest.raises(docker.errors.APIError, match="paused"):
        container.exec_run(["true"])  # frozen: nothing can run inside
    fault.heal()
    fault.heal()
    assert is_running(container) and container.exec_run(["true"]).exit_code == 0


@pytest.mark.parametrize("how", ["stop", "pause"])
def test_s3_outage(proj: TestProject, how: str) -> None:
    container = proj.run("s3")
    fault = S3Outage(proj.stack, how)
    fault.inject()
    assert took_effect(fault.evidence())
    fault.heal()
    assert is_running(container)


def test_heal_before_inject_is_harmless(proj: TestProject) -> None:
    container = proj.run("s3")
    container.reload()
    started = container.attrs["State"]["StartedAt"]
    for fault in (
        Crash(proj.stack, "s3"),
        Stop(proj.stack, "s3"),
        Pause(proj.stack, "s3"),
        CrashLoop(proj.stack, "s3"),
    ):
        fault.heal()
        assert not took_effect(fault.evidence())
    # The same process, never stopped, restarted or paused by a heal of a fault never injected.
    container.reload()
    assert container.attrs["State"]["StartedAt"] == started
    assert container.attrs["State"]["Status"] == "running" and not container.attrs["State"]["Paused"]
    assert container.attrs["RestartCount"] == 0


def test_strangers_are_refused(proj: TestProject) -> None:
    # compose labels of our project, but the project label of someone else
    stranger = proj.run(
        "chat-llm-api", labels={COMPOSE_PROJECT: PROJECT, COMPOSE_SERVICE: "chat-llm-api", OUR_LABEL: "someone-else"}
    )
    with pytest.raises(FaultError, match="refusing"):
        Crash(proj.stack, "chat-llm-api").inject()
    with pytest.raises(FaultError, match="refusing"):
        proj.stack.ensure_ours(stranger)
    assert is_running(stranger)
    with pytest.raises(FaultError, match="no container"):
        proj.stack.container("no-such-service")


def test_host_port_comes_from_the_binding(proj: TestProject) -> None:
    with socket.socket() as probe:  # a free host port unlike the container's, chosen here
        probe.bind(("127.0.0.1", 0))
        chosen = probe.getsockname()[1]
    assert chosen != 8000
    proj.run("waste-api", ports={"8000/tcp": ("127.0.0.1", chosen)})
    assert proj.stack.host_port("waste-api", 8000) == chosen
    with pytest.raises(FaultError, match="publishes no host port"):
        proj.stack.host_port("waste-api", 9999)


def test_a_container_compose_is_replacing_is_ignored(proj: TestProject) -> None:
    old = proj.run("location-api")
    old.rename(f"{old.id[:12]}_{old.name}")  # what compose does while it recreates a service
    new = proj.run("location-api", name_suffix="-new")
    assert [c.id for c in proj.stack.containers("location-api")] == [new.id]


def test_the_death_watch_sees_each_death_until_the_service_serves_again(proj: TestProject) -> None:
    # an "API" that logs the serving line a second after it starts, like system/apis/common.py
    serves = f"trap 'exit 0' TERM; sleep 1; echo 'INFO:chat-llm-api:{SERVING}'; sleep infinity & wait"
    container = proj.run("chat-llm-api", command=("sh", "-c", serves))
    other = proj.run("waste-api")
    watch = DeathWatch(proj.client, PROJECT)
    watch.start()
    try:
        before = time.time()
        fault = CrashLoop(proj.stack, "chat-llm-api", loop=False)
        fault.inject()
        wait_for(lambda: is_running(container) and bool(watch.spans()), timeout_s=20, what="a death seen, then a start")
        started = watch.spans()["chat-llm-api"][0][1]
        time.sleep(2)  # past the serving line
        fault.heal()
        spans = watch.spans(apis={"chat-llm-api"})
    finally:
        watch.stop()
    assert set(spans) == {"chat-llm-api"} and is_running(other)  # the other service never died
    [(died, serving)] = spans["chat-llm-api"]
    assert before <= died < started and started + 0.5 < serving <= time.time()


def test_the_last_kill_waits_for_work_in_hand(proj: TestProject) -> None:
    proj.run("worker-storage")
    polls: list[float] = []

    def holding() -> bool:  # the worker's WAL takes a task on the fifth look
        polls.append(time.time())
        return len(polls) >= 5

    fault = CrashLoop(proj.stack, "worker-storage", loop=False, ready=lambda: True, busy_s=0.1, holding=holding)
    fault.inject()
    fault.heal()
    assert fault.kills == 2 and fault.busy_killed and fault.held_at_kill is True
    released = fault.released_at()
    assert len(polls) >= 5 and released is not None and released >= polls[4]
    assert "work in hand at the last kill=True" in fault.evidence()[0].detail


def test_a_last_kill_whose_restart_replayed_nothing_is_tried_again(proj: TestProject) -> None:
    """The rows in hand can complete between the look and the signal: then the restart replays
    nothing and the recovery path under test never ran. The kill is tried again, a bounded number
    of times."""
    proj.run("worker-storage")
    answers = iter([False, True])  # the first restart replayed nothing, the second did
    fault = CrashLoop(
        proj.stack, "worker-storage", loop=False, ready=lambda: True, busy_s=0.1, replayed=lambda: next(answers)
    )
    fault.inject()
    time.sleep(1.0)  # the hold: the first kill is seen before heal looks for a restart
    fault.heal()
    assert fault.kills == 3 and fault.replay_retries == 1
    assert fault.started_by_hand() == []  # the retry waited out Docker's restart delay
    assert "killed again 1x" in fault.evidence()[0].detail

    never = CrashLoop(proj.stack, "worker-storage", loop=False, ready=lambda: True, busy_s=0.1, replayed=lambda: False)
    never.inject()
    time.sleep(1.0)
    never.heal()
    assert never.replay_retries == REPLAY_RETRIES and never.kills == 2 + REPLAY_RETRIES
    assert never.started_by_hand() == []
