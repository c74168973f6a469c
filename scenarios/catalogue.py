"""F1-F17 as concrete faults: what breaks, for how long, and which capability must come back.

The claims themselves (RTO, RPO, impact, alert) live in harness/claims.py; this table only
says how each failure point is produced on the running stack. Outage lengths are real
seconds; at the suite's time scale (0.02) 10 s stand for about 8 minutes of design time,
longer than every backoff step the design describes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from faults import (
    CorruptWal,
    Crash,
    CrashLoop,
    CutLink,
    Evidence,
    ExhaustPool,
    Fault,
    FillDisk,
    GptOutage,
    PoisonMessages,
    S3Outage,
    Stop,
)
from faults import Stack as FaultStack
from harness.claims import claim
from harness.scenario import Plan
from harness.stack import Stack
from harness.verdict import Judgement, Verdict

OUTAGE_S = 10.0
CRASH_OBSERVE_S = 5.0  # after a SIGKILL the restart policy repairs; hold to observe it (>= 25 probes a domain)

# Claims of the design that this harness has shown to be false, with the reason. A scenario
# listed here is expected to come out VIOLATED (pytest xfail); if it ever holds, the test fails
# so that this table is corrected rather than silently kept.
KNOWN_FALSE: dict[str, str] = {
    "F9": "a damaged SQLite -wal silently drops committed WAL rows (integrity_check stays ok); the design has "
          "no detection or recovery for F9 (spec section 6), so the WAL's RPO = 0 does not hold",
}


class AllOf(Fault):
    """Several faults as one: injected in order, healed in reverse."""

    def __init__(self, name: str, faults: Sequence[Fault]) -> None:
        self.name = name
        self.faults = list(faults)
        self._injected: list[Fault] = []

    def inject(self) -> None:
        """Inject each part; a failure leaves the injected ones for heal()."""
        for f in self.faults:
            self._injected.append(f)
            f.inject()

    def heal(self) -> None:
        """Heal every part, newest first, even if one heal fails."""
        errors = []
        for f in reversed(self._injected):
            try:
                f.heal()
            except Exception as exc:
                errors.append(f"{f.name}: {exc}")
        if errors:
            raise RuntimeError("; ".join(errors))

    def evidence(self) -> list[Evidence]:
        """Every part's evidence."""
        return [e for f in self.faults for e in f.evidence()]

    def describe(self) -> dict[str, Any]:
        """Every part's parameters."""
        return {"name": self.name, "parts": [f.describe() for f in self.faults]}


def _fs(stack: Stack) -> FaultStack:
    return stack.targets


def _wal_keys(stack: Stack, worker: str) -> set[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{stack.wal_host_path(worker)}?mode=ro", uri=True, timeout=5)
    try:
        return {(str(t), str(n)) for t, n in conn.execute("SELECT task_id, task_name FROM task_wal")}
    finally:
        conn.close()


def _wal_loss_audit(worker: str) -> tuple[Callable[[Stack, dict[str, Any]], None],
                                          Callable[[Stack, dict[str, Any]], list[Judgement]]]:
    """Remember the WAL's committed rows before the damage; after, count the ones that vanished."""

    def before(stack: Stack, ctx: dict[str, Any]) -> None:
        ctx["wal_before"] = _wal_keys(stack, worker)

    def audit(stack: Stack, ctx: dict[str, Any]) -> list[Judgement]:
        before_rows: set[tuple[str, str]] = ctx.get("wal_before", set())
        if not before_rows:
            return [Judgement("wal_rows_kept", Verdict.INCONCLUSIVE, None, 0, "rows",
                              {"reason": "the WAL could not be read before the damage"})]
        lost = sorted(before_rows - _wal_keys(stack, worker))
        verdict = Verdict.VIOLATED if lost else Verdict.HOLDS
        return [Judgement("wal_rows_kept", verdict, len(lost), 0, "rows",
                          {"committed_before": len(before_rows), "vanished": len(lost),
                           "sample": [f"{t}/{n}" for t, n in lost[:10]]})]

    return before, audit


def crash(*services: str) -> Callable[[Stack], Fault]:
    """SIGKILL of the services' main processes (the restart policy repairs)."""
    return lambda s: Crash(_fs(s), list(services))


def crash_loop(service: str) -> Callable[[Stack], Fault]:
    """The service's process killed each time it comes back, until heal (CrashLoopBackOff)."""
    return lambda s: CrashLoop(_fs(s), service)


def stop(*services: str) -> Callable[[Stack], Fault]:
    """The services stopped until heal (nothing repairs them by itself)."""
    return lambda s: AllOf("stop", [Stop(_fs(s), x) for x in services])


def plan(fid: str) -> Plan:
    """The scenario plan of one failure point."""
    c = claim(fid)
    # F1-F3, F7, F8: the process crash-loops for the outage (long enough for an alert window to
    # see it), then the restart policy repairs it; RTO is measured from the last crash.
    if fid == "F1":
        return Plan(c, crash_loop("waste-api"), hold_s=OUTAGE_S, capabilities=("waste",), rto_from="heal")
    if fid == "F2":
        return Plan(c, crash_loop("auth-api"), hold_s=OUTAGE_S, capabilities=("auth",), rto_from="heal")
    if fid == "F3":
        return Plan(c, crash_loop("chat-llm-api"), hold_s=OUTAGE_S, capabilities=("chat",), rto_from="heal")
    if fid == "F4":  # the whole cluster down for the outage, then restarted
        return Plan(c, stop("rabbitmq-1", "rabbitmq-2", "rabbitmq-3"), hold_s=OUTAGE_S,
                    capabilities=("pipeline",), recovery_budget_s=120)
    if fid == "F5":  # poison messages dead-lettered out of two specific queues while work flows
        # (BlockQueue's max-length policy is not used: RabbitMQ 3.10 quorum queues enforce it only
        # approximately, so a "blocked" queue still takes a message per drain; see docs/faults.md)
        return Plan(c, lambda s: AllOf("dead_letter", [PoisonMessages(_fs(s), q, count=3)
                                                       for q in ("user_input_queue", "vision_analysis_queue")]),
                    hold_s=OUTAGE_S, capabilities=("pipeline",))
    if fid == "F6":  # every broker node SIGKILLed with messages in flight
        return Plan(c, crash("rabbitmq-1", "rabbitmq-2", "rabbitmq-3"), hold_s=CRASH_OBSERVE_S,
                    capabilities=("pipeline",), recovery_budget_s=120)
    if fid == "F7":
        return Plan(c, crash_loop("worker-storage"), hold_s=OUTAGE_S, capabilities=("pipeline",), rto_from="heal")
    if fid == "F8":
        return Plan(c, crash_loop("worker-ai"), hold_s=OUTAGE_S, capabilities=("pipeline",), rto_from="heal")
    if fid == "F9":
        before, audit = _wal_loss_audit("worker-storage")
        return Plan(c, lambda s: CorruptWal(_fs(s), "worker-storage", mode="truncate"), hold_s=CRASH_OBSERVE_S,
                    capabilities=("pipeline",), before_inject=before, extra_audit=audit,
                    notes="worker-storage killed, its task_queue.db-wal truncated to half, started again")
    if fid == "F10":  # both workers cut from ecoeco_waste; the broker and S3 stay reachable
        return Plan(c, lambda s: AllOf("sync_failure", [CutLink(_fs(s), w, "pg-waste", probe_port=5432)
                                                        for w in ("worker-storage", "worker-ai")]),
                    hold_s=OUTAGE_S, capabilities=("pipeline",))
    if fid == "F11":
        return Plan(c, stop("pg-waste"), hold_s=OUTAGE_S, capabilities=("waste", "pipeline"))
    if fid == "F12":
        return Plan(c, stop("pg-auth"), hold_s=OUTAGE_S, capabilities=("auth", "userinfo"))
    if fid == "F13":
        return Plan(c, lambda s: ExhaustPool(_fs(s), "pg-waste"), hold_s=OUTAGE_S,
                    capabilities=("waste", "pipeline"))
    if fid == "F14":
        # ecoeco_waste's data disk and worker-ai's WAL disk both full (each its own ext4, harness/disks.py)
        return Plan(c, lambda s: AllOf("disk_full", [
            FillDisk(_fs(s), "pg-waste-data", max_fill_bytes=1024 * 1024 * 1024),
            FillDisk(_fs(s), "wal-ai", max_fill_bytes=128 * 1024 * 1024)]),
            hold_s=OUTAGE_S, capabilities=("waste", "pipeline"))
    if fid == "F15":
        return Plan(c, lambda s: GptOutage("gpt5", "error"), hold_s=OUTAGE_S, capabilities=("pipeline",))
    if fid == "F16":
        return Plan(c, lambda s: GptOutage("gpt4o-mini", "error"), hold_s=OUTAGE_S,
                    capabilities=("pipeline", "chat"))
    if fid == "F17":
        return Plan(c, lambda s: S3Outage(_fs(s), "stop"), hold_s=OUTAGE_S, capabilities=("pipeline",))
    raise KeyError(f"no plan for {fid}")


FIDS = tuple(f"F{i}" for i in range(1, 18))
