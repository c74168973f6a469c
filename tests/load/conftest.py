"""Fixtures of the load tests: the fake services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.load.fake_services import FakeServices


@pytest.fixture
def fake_services() -> Iterator[FakeServices]:
    """Started fake services; stopped after the test."""
    fake = FakeServices()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
