"""The design's seventeen failure points, each injected under load and judged (pytest -m chaos).

`pytest -m chaos -k f07` runs one. Each run writes runs/<run_id>/scenarios/F<n>.json.
"""

from __future__ import annotations

import pytest

from harness.journal import RunJournal
from harness.scenario import Scenario
from harness.stack import Stack
from scenarios.catalogue import FIDS, KNOWN_FALSE, plan
from scenarios.outcome import settle


@pytest.mark.chaos
@pytest.mark.parametrize("fid", FIDS, ids=[f"f{int(f[1:]):02d}" for f in FIDS])
def test_failure_point(fid: str, stack: Stack, journal: RunJournal) -> None:
    record = Scenario(stack, plan(fid), journal.config.run_dir).run()
    journal.add(record)
    settle(record, KNOWN_FALSE.get(fid))
