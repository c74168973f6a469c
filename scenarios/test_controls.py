"""Planted defects: the main suite with one defect must come out VIOLATED (pytest -m controls).

Every (defect, failure point) pair comes from the catalogue's `defects` maps: the control runs
that failure point's own plan, unchanged, on services recreated with the defect planted
(scenarios/defects.py), and the named judgement must be VIOLATED. The chaos run on the safe
build is each control's negative twin: the same plan there must hold. Between controls only what
differs is recreated (scenarios/planting.py); the safe configuration is restored at the module's
end whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.point import FailurePoint
from core.record import ScenarioRecord
from core.verdict import Verdict
from harness.journal import RunJournal
from harness.scenario import Scenario
from harness.stack import Stack
from scenarios.catalogue import POINTS
from scenarios.defects import Defect, defect
from scenarios.outcome import explain
from scenarios.planting import Planter

# Only the named judgement decides a control: it watches for recovery at most a minute, not the
# claim's full budget (up to 5 min), which a broken build may well spend in full. Fault, hold and
# workload are the chaos plan's own; the drain is too (a shorter one could call stuck work lost).
RECOVERY_CAP_S = 60.0

# Grouped by the services they recreate (catalogue order within a group), so that consecutive
# controls replant the same services instead of restoring and recreating them (scenarios/planting.py).
CONTROLS: list[tuple[Defect, FailurePoint, str]] = sorted(
    [(defect(name), p, judgement) for p in POINTS for name, judgement in p.defects.items()],
    key=lambda c: (sorted(c[0].services), c[0].reset_queues),
)


def control_name(d: Defect, p: FailurePoint) -> str:
    """The control's scenario name in records and reports."""
    return f"control-{d.name.replace('+', '-')}-{p.id}"


@pytest.fixture(scope="module")
def planter(stack: Stack) -> Iterator[Planter]:
    """One planter for the module's controls: the safe build comes back at the module's end."""
    p = Planter(stack)
    try:
        yield p
    finally:
        p.restore()


@pytest.fixture
def planted(planter: Planter, request: pytest.FixtureRequest) -> tuple[Defect, FailurePoint, str]:
    planter.plant(request.param[0])
    return request.param  # type: ignore[no-any-return]


def _judgement(record: ScenarioRecord, name: str) -> Verdict | None:
    return next((j.verdict for j in record.judgements if j.claim == name), None)


@pytest.mark.controls
@pytest.mark.parametrize("planted", CONTROLS, ids=[control_name(d, p) for d, p, _ in CONTROLS], indirect=True)
def test_main_plan_catches_planted_defect(
    planted: tuple[Defect, FailurePoint, str], stack: Stack, journal: RunJournal
) -> None:
    planted_defect, point, must_violate = planted
    scenario = Scenario(
        stack,
        point,
        journal.config.run_dir,
        name=control_name(planted_defect, point),
        title=f"{point.claim.title} with planted defect: {planted_defect.name}",
        parameters={
            "planted_defect": planted_defect.name,
            "defect_env": dict(planted_defect.env),
            "must_violate": must_violate,
        },
        recovery_cap_s=RECOVERY_CAP_S,
    )
    record = scenario.run()
    caught = _judgement(record, must_violate) is Verdict.VIOLATED  # the report reads the same from the record
    journal.add(record)
    assert caught, (
        f"{point.id}'s plan did not catch the planted defect {planted_defect.name}: "
        f"{must_violate} is {_judgement(record, must_violate)}\n{explain(record)}"
    )
