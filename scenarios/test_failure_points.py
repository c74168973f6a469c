"""The design's seventeen failure points and their harsher modes, each injected under the design's
workload and judged (pytest -m chaos).

`pytest -m chaos -k f07` runs one (`-k f11` runs F11 and F11-kill). Each run writes
runs/<run_id>/scenarios/<id>.json; with `--repeat N` each run also writes <id>.r<n>.json. With
`--as-written` the design's own policies and alert rules are on trial (docs/as-written.md).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.point import FailurePoint
from core.record import write_scenario
from core.repeat import run_repeated
from harness.journal import RunJournal
from harness.scenario import Scenario
from harness.stack import Stack
from scenarios.catalogue import ACCEPTED, POINTS
from scenarios.outcome import junit_properties, settle, settle_as_written


def _test_id(point_id: str) -> str:
    fid, _, mode = point_id.partition("-")
    return f"f{int(fid[1:]):02d}" + (f"-{mode}" if mode else "")


@pytest.mark.chaos
@pytest.mark.parametrize("point", POINTS, ids=[_test_id(p.id) for p in POINTS])
def test_failure_point(
    point: FailurePoint, stack: Stack, journal: RunJournal, record_property: Callable[[str, object], None]
) -> None:
    run_dir = journal.config.run_dir
    record = run_repeated(point.id, journal.config.repeat, lambda n: Scenario(stack, point, run_dir, name=n).run())
    if record.repeats:  # each run wrote its own file; the point's file is the combined record
        write_scenario(run_dir, record)
    journal.add(record)
    for name, value in junit_properties(record):
        record_property(name, value)
    if journal.config.as_written:
        settle_as_written(record)  # on trial, not gated: accepted findings are the hardened build's
    else:
        settle(record, ACCEPTED)
