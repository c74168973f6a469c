"""Starting a stack on a busy machine, with real containers: a node frozen during the start is
given a second chance (restarted once) and the start goes on; a node that never becomes healthy
ends the start with a short message naming it, with its logs (issue: slow broker node at start)."""

from __future__ import annotations

import time

import docker
import pytest

from harness.stack import Stack
from harness.startup import StackStartError, await_healthy
from tests.faults.conftest import TestProject

HEALTH = {"interval": 500_000_000, "timeout": 2_000_000_000, "retries": 1, "start_period": 0}


def _handle(proj: TestProject) -> Stack:
    """The harness's own stack handle over the test project (its health, restart and logs)."""
    handle = Stack.__new__(Stack)
    handle.targets = proj.stack
    return handle


def test_a_node_frozen_at_start_is_restarted_and_the_start_goes_on(proj: TestProject) -> None:
    proj.run("node-1", healthcheck={"test": ["CMD", "true"], **HEALTH})
    slow = proj.run(
        "node-3",
        command=("sh", "-c", "echo node-3 booting; trap 'exit 0' TERM; sleep infinity & wait"),
        healthcheck={"test": ["CMD", "true"], **HEALTH},
    )
    slow.pause()  # as a node starved of CPU beside a heavy job: its healthcheck never runs
    handle = _handle(proj)
    started = time.monotonic()
    took = await_healthy(
        handle.health, handle.restart_service, handle.logs, timeout_s=60, second_chance_s=3, poll_s=0.5
    )
    slow.reload()
    assert slow.status == "running" and handle.health() == {"node-1": "healthy", "node-3": "healthy"}
    assert 3 <= took <= time.monotonic() - started + 0.1
    print(f"start waited {took:.1f} s for the frozen node (second chance after 3 s)")


def test_a_node_that_never_becomes_healthy_is_named_with_its_logs(
    proj: TestProject, docker_client: docker.DockerClient
) -> None:
    proj.run("node-1", healthcheck={"test": ["CMD", "true"], **HEALTH})
    proj.run(
        "node-2",
        command=("sh", "-c", "echo cannot join the cluster; trap 'exit 0' TERM; sleep infinity & wait"),
        healthcheck={"test": ["CMD", "false"], **HEALTH},
    )
    handle = _handle(proj)
    with pytest.raises(StackStartError) as err:
        await_healthy(handle.health, handle.restart_service, handle.logs, timeout_s=8, second_chance_s=2, poll_s=0.5)
    text = str(err.value)
    assert "node-2: unhealthy (restarted once, still not healthy)" in text
    assert "| cannot join the cluster" in text
    assert "node-1" not in text.split("\n", 1)[1]
    assert len(text.splitlines()) < 40
