"""docker pause tried again when runc could not freeze the cgroup in time (no Docker needed)."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from faults import FaultError, pause


class FakeContainer:
    """Refuses to freeze `failures` times with `message`, then freezes."""

    name = "ecoeco-rabbitmq-3-1"

    def __init__(self, failures: int, message: str) -> None:
        self.failures, self.message, self.calls = failures, message, 0

    def pause(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise docker.errors.APIError(self.message)


FREEZE = "Cannot pause container: OCI runtime pause failed: unable to freeze: unknown"


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pause, "FREEZE_RETRY_S", 0.0)


def test_a_freeze_runc_gave_up_on_is_tried_again() -> None:
    c: Any = FakeContainer(failures=2, message=FREEZE)
    pause.freeze(c)
    assert c.calls == 3


def test_a_freeze_that_keeps_failing_is_a_fault_error() -> None:
    c: Any = FakeContainer(failures=5, message=FREEZE)
    with pytest.raises(FaultError, match="3 attempts"):
        pause.freeze(c)
    assert c.calls == pause.FREEZE_ATTEMPTS


def test_any_other_refusal_is_not_tried_again() -> None:
    c: Any = FakeContainer(failures=1, message="Container is not running")
    with pytest.raises(FaultError, match="1 attempts"):
        pause.freeze(c)
    assert c.calls == 1
