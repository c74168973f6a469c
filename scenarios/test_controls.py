"""Planted defects: each checker must come out VIOLATED when the system is built the unsafe way.

A checker that no defect can trip is itself a defect (pytest -m controls). Each control
recreates the services it needs with one planted defect (docs/contracts.md, ECOECO_UNSAFE or
the restart policy), runs a failure point against them, asserts the named judgement is
VIOLATED, and restores the safe configuration whatever happens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from harness.journal import RunJournal
from harness.record import ScenarioRecord
from harness.scenario import Scenario
from harness.stack import Stack
from harness.verdict import Verdict
from scenarios.catalogue import crash, plan
from scenarios.outcome import explain
from system.fakes.gpt import write_control

APPS = ["waste-api", "chat-llm-api", "worker-storage", "worker-ai"]


@dataclass(frozen=True)
class Control:
    """One planted defect and the judgement that must catch it."""

    name: str
    fid: str
    env: dict[str, str]
    services: list[str]
    must_violate: str  # judgement claim name
    slow_gpt_ms: float = 0.0  # GPT latency during the control, so work is in flight when the fault hits
    hold_s: float | None = None
    single_crash: str | None = None  # one SIGKILL of this service, RTO from the crash (not a crash loop)


CONTROLS = [
    # ack on delivery (auto-ack): prefetched messages die with the worker -> acknowledged uploads lost.
    # GPT latencies scale with ECOECO_STAGE_CONSUMERS (3): the backlog in flight at each crash must
    # stay large (with 1 s and three consumers a run lost only 3-5 uploads, too close to none).
    Control("lost-ack-before-wal", "F8", {"ECOECO_UNSAFE": "ack_before_wal"}, APPS, "upload:rpo", slow_gpt_ms=3000),
    # no idempotency: a redelivered and a republished copy both produce a result -> duplicates
    Control("duplicated-no-idempotency", "F8", {"ECOECO_UNSAFE": "no_idempotency"}, APPS, "upload:exactly_once",
            slow_gpt_ms=900),
    # no restart policy: a crashed API stays down until an operator (the heal, 35 s later) starts it
    Control("rto-no-restart-policy", "F1", {"ECOECO_RESTART_POLICY": "no"}, ["waste-api"], "rto:waste",
            hold_s=35.0, single_crash="waste-api"),
    # spec section 2 as written: waste-api and chat re-check users in ecoeco_auth -> they fall with it
    Control("isolation-auth-via-db", "F12", {"ECOECO_UNSAFE": "auth_via_db"}, ["waste-api", "chat-llm-api"],
            "isolation"),
]
SAFE_ENV = {"ECOECO_UNSAFE": "", "ECOECO_RESTART_POLICY": "unless-stopped"}
CHAT_SAFE_GPT_MS = 1000.0


@pytest.fixture
def planted(stack: Stack, request: pytest.FixtureRequest) -> Iterator[Control]:
    control: Control = request.param
    control_file = str(stack.config.control_dir / "gpt.json")
    try:
        stack.restart_with(control.services, control.env)
        if control.slow_gpt_ms:
            write_control(control_file, "gpt5", "slow", control.slow_gpt_ms)
            # chat-llm-api calls GPT-4o mini directly and probes count an answer within 2 s as
            # serving: past that the control would also take chat down, which is not its point
            write_control(control_file, "gpt4o-mini", "slow", min(control.slow_gpt_ms, CHAT_SAFE_GPT_MS))
        yield control
    finally:
        for family in ("gpt5", "gpt4o-mini"):
            write_control(control_file, family, "healthy")
        stack.restart_with(control.services, SAFE_ENV)


def _judgement(record: ScenarioRecord, name: str) -> Verdict | None:
    return next((j.verdict for j in record.judgements if j.claim == name), None)


@pytest.mark.controls
@pytest.mark.parametrize("planted", CONTROLS, ids=[c.name for c in CONTROLS], indirect=True)
def test_checker_catches_planted_defect(planted: Control, stack: Stack, journal: RunJournal) -> None:
    base = plan(planted.fid)
    claim = dataclasses.replace(base.claim, fid=f"control-{planted.name}",
                                title=f"{base.claim.title} with planted defect: {planted.name}")
    control_plan = dataclasses.replace(base, claim=claim, hold_s=planted.hold_s or base.hold_s,
                                       parameters={"planted_defect": planted.env, "must_violate": planted.must_violate})
    if planted.single_crash:
        control_plan = dataclasses.replace(control_plan, make_fault=crash(planted.single_crash), rto_from="injection")
    record = Scenario(stack, control_plan, journal.config.run_dir).run()
    journal.add(record)
    if not all(e.ok for e in record.effect) or record.errors:
        pytest.fail(f"control could not be judged (fault not proven or harness error):\n{explain(record)}")
    verdict = _judgement(record, planted.must_violate)
    assert verdict is Verdict.VIOLATED, (
        f"checker {planted.must_violate} did not catch the planted defect {planted.name} (got {verdict}):\n"
        f"{explain(record)}")
