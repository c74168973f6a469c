"""Planting defects between controls (scenarios/planting.py): only what differs is recreated, and
the safe build always comes back, also after a plant that failed halfway."""

from __future__ import annotations

import pytest

from scenarios.defects import Defect
from scenarios.planting import Planter

SAFE = {"ECOECO_UNSAFE": "", "ECOECO_RESTART_POLICY": "unless-stopped"}


def _defect(name: str, *services: str, reset: bool = False) -> Defect:
    return Defect(name, {"ECOECO_UNSAFE": name}, services, "", reset_queues=reset)


class FakeStack:
    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[list[str], str, bool]] = []
        self.fail_on = fail_on

    def restart_with(self, services: list[str], env: dict[str, str], reset_queues: bool = False) -> None:
        self.calls.append((services, env["ECOECO_UNSAFE"] or "safe", reset_queues))
        assert env["ECOECO_RESTART_POLICY"] == "unless-stopped"  # every other setting safe
        if env["ECOECO_UNSAFE"] == self.fail_on:
            raise RuntimeError("compose up failed")


def test_same_services_are_replanted_and_the_rest_restored_once() -> None:
    stack = FakeStack()
    planter = Planter(stack, SAFE)
    planter.plant(_defect("a", "waste-api"))
    planter.plant(_defect("b", "waste-api"))
    planter.plant(_defect("c", "worker-ai", "worker-storage"))
    planter.plant(_defect("d", "worker-storage"))
    planter.restore()
    assert stack.calls == [
        (["waste-api"], "a", False),
        (["waste-api"], "b", False),  # no restore in between: b recreates waste-api anyway
        (["waste-api"], "safe", False),
        (["worker-ai", "worker-storage"], "c", False),
        (["worker-ai"], "safe", False),
        (["worker-storage"], "d", False),
        (["worker-storage"], "safe", False),
    ]
    planter.restore()
    assert len(stack.calls) == 7  # nothing left to restore


def test_a_queue_type_change_is_undone_in_full_before_the_next_plant() -> None:
    stack = FakeStack()
    planter = Planter(stack, SAFE)
    planter.plant(_defect("classic", "waste-api", "worker-ai", reset=True))
    planter.plant(_defect("e", "worker-ai"))
    assert stack.calls[1:] == [(["waste-api", "worker-ai"], "safe", True), (["worker-ai"], "e", False)]


def test_a_plant_that_failed_halfway_is_restored() -> None:
    stack = FakeStack(fail_on="bad")
    planter = Planter(stack, SAFE)
    with pytest.raises(RuntimeError):
        planter.plant(_defect("bad", "worker-ai"))
    planter.restore()
    assert stack.calls[-1] == (["worker-ai"], "safe", False)
