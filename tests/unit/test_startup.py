"""The patient start: a slow service gets restarted once and the wait goes on; one that never comes
up ends in a few clear lines (which service, how long, its logs), never a traceback."""

from __future__ import annotations

import pytest

from harness.startup import StackStartError, await_healthy


class FakeStack:
    """Services whose health follows a script; restarting one can cure it."""

    def __init__(self, cured_by_restart: bool) -> None:
        self.cured_by_restart = cured_by_restart
        self.restarts: list[str] = []
        self.polls = 0

    def health(self) -> dict[str, str]:
        self.polls += 1
        node = "healthy" if self.restarts and self.cured_by_restart else "starting"
        return {"rabbitmq-1": "healthy", "rabbitmq-3": node}

    def restart(self, service: str) -> None:
        self.restarts.append(service)

    def logs(self, service: str) -> str:
        return f"{service} line 1\n{service}: waiting for the seed node"


def test_a_slow_node_is_restarted_once_and_the_start_goes_on() -> None:
    stack = FakeStack(cured_by_restart=True)
    await_healthy(stack.health, stack.restart, stack.logs, timeout_s=5, second_chance_s=0.05, poll_s=0.01)
    assert stack.restarts == ["rabbitmq-3"]


def test_a_node_that_never_comes_up_is_named_with_its_logs() -> None:
    stack = FakeStack(cured_by_restart=False)
    with pytest.raises(StackStartError) as err:
        await_healthy(stack.health, stack.restart, stack.logs, timeout_s=0.3, second_chance_s=0.05, poll_s=0.01)
    text = str(err.value)
    assert stack.restarts == ["rabbitmq-3"]  # once, not in a loop
    assert "rabbitmq-3: starting (restarted once, still not healthy)" in text
    assert "| rabbitmq-3: waiting for the seed node" in text and "rabbitmq-1" not in text.split("\n", 1)[1]
    assert "What to do" in text and "Traceback" not in text
