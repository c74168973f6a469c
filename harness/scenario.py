"""One chaos scenario, Jepsen style: steady state, load on, inject, prove, hold, heal, recover,
drain, audit the whole history, judge each claim, write the record.

A scenario never passes without proof that its fault took effect, and always heals what it
injected, last in first out, whatever happens in between.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from faults.base import Fault
from faults.registry import Nemesis
from harness import observe
from harness.alerts import current_alerts, judge_from_prometheus
from harness.checkers.isolation import check_isolation
from harness.checkers.rpo import check_rpo
from harness.checkers.rto import Sample, canary_samples, judge_rto, measure_recovery
from harness.claims import Claim, RtoFrom
from harness.ledger import LedgerWriter, outcomes_for, read_ledger, summarise
from harness.probes import Prober, ProbeUser
from harness.progress import phase, scenario_started
from harness.record import EffectCheck, LoadSummary, ScenarioRecord, Timeline, overall_verdict, write_scenario
from harness.stack import Stack
from harness.verdict import Judgement, Verdict
from harness.wait import WaitTimeout, until
from load.driver import LoadRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """How one failure point is exercised: the fault, how long it lasts, what to watch."""

    claim: Claim
    make_fault: Callable[[Stack], Fault]
    hold_s: float = 8.0  # outage length before heal (a heal on a self-repairing crash is a no-op)
    capabilities: tuple[str, ...] = ("pipeline",)  # domains whose RTO is measured
    rto_from: RtoFrom | None = None  # RTO reference instant when it differs from the claim's (None: the claim's)
    users: int = 8  # the smallest count at which Locust gives every domain's user class one user
    warmup_s: float = 4.0
    recovery_budget_s: float = 90.0  # stop waiting for recovery after this (the verdict says so)
    drain_timeout_s: float = 90.0
    canary_deadline_s: float = 3.0  # a healthy pipeline answers in well under a second
    extra_audit: Callable[[Stack, dict[str, Any]], list[Judgement]] | None = None
    before_inject: Callable[[Stack, dict[str, Any]], None] | None = None
    notes: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Series:
    queue_depth: dict[str, list[list[float]]] = field(default_factory=dict)
    wal_pending: dict[str, list[list[float]]] = field(default_factory=dict)


class Sampler(threading.Thread):
    """Queue depths and WAL pending rows once a second, for the timeline."""

    def __init__(self, stack: Stack, t0: float) -> None:
        super().__init__(name="sampler", daemon=True)
        self.stack, self.t0 = stack, t0
        self.series = _Series()
        self._halt = threading.Event()

    def stop(self) -> None:
        """Stop sampling."""
        self._halt.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self._halt.wait(1.0):
            t = round(time.time() - self.t0, 2)
            with contextlib.suppress(Exception):
                for q, n in observe.queue_depths(self.stack.config).items():
                    self.series.queue_depth.setdefault(q, []).append([t, n])
            for worker, pending in worker_pending(self.stack).items():
                if pending is not None:
                    self.series.wal_pending.setdefault(worker, []).append([t, pending])


def worker_pending(stack: Stack, unsynced: bool = False) -> dict[str, int | None]:
    """WAL rows per worker not yet done (with `unsynced`: or not yet in PostgreSQL), from its /health
    (None when it does not answer)."""
    out: dict[str, int | None] = {}
    for worker in observe.WORKERS:
        try:
            body = httpx.get(f"{stack.config.url(worker)}/health", timeout=1.0).json()
            out[worker] = int(body["wal_pending"]) + (int(body["wal_unsynced"]) if unsynced else 0)
        except (httpx.HTTPError, ValueError, KeyError):
            out[worker] = None
    return out


# Shortest outage an alert can see at the suite's time scale: `for` (1 min x 0.02) plus a
# scrape and two evaluations of 1 s each; a shorter undetected fault is inconclusive.
MIN_DETECTABLE_S = 5.0
RESOLVE_WAIT_S = 30.0  # how long after the drain an alert may take to resolve before it counts as stuck




def steady(stack: Stack) -> bool:
    """Every service healthy, no alert firing, work queues empty, WALs without pending rows."""
    if not stack.all_healthy():
        return False
    if any(a.get("state") == "firing" for a in current_alerts(stack.config.url("prometheus"))):
        return False
    depths = observe.queue_depths(stack.config)
    if any(n for q, n in depths.items() if q != "dead_letter_queue"):
        return False
    return all(p == 0 for p in worker_pending(stack, unsynced=True).values())


class Scenario:
    """Runs one Plan against the stack and returns its record."""

    def __init__(self, stack: Stack, plan: Plan, run_dir: Path) -> None:
        self.stack, self.plan = stack, plan
        self.dir = run_dir / "scenarios"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fid = plan.claim.fid
        self.ledger_path = self.dir / f"{self.fid}.ledger.jsonl"
        self.timeline_path = self.dir / f"{self.fid}.load.jsonl"
        self.errors: list[str] = []
        self.effect: list[EffectCheck] = []
        self.judgements: list[Judgement] = []
        self.context: dict[str, Any] = {}
        self.nemesis = Nemesis()

    def run(self) -> ScenarioRecord:
        """The whole scenario; exceptions become harness errors in the record, never a pass."""
        scenario_started()
        t0 = self.t0 = time.time()
        marks: dict[str, float | None] = {"injected": None, "healed": None, "recovered": None, "drained": None}
        prober: Prober | None = None
        sampler = Sampler(self.stack, t0)
        load = LoadRun(self.dir / f"{self.fid}-locust")
        try:
            phase(self.fid, "steady-state gate")
            try:
                until(lambda: steady(self.stack), timeout_s=120, what="steady state before injection")
            except WaitTimeout as exc:
                self.effect.append(EffectCheck("steady state before injection", False, str(exc)))
                raise _Abort(f"steady state not reached: {self.stack.unhealthy()}") from exc
            with LedgerWriter(self.ledger_path, "canary") as ledger:
                prober = Prober(self.stack.config, ProbeUser(self.stack.config), ledger)
                prober.start()
                sampler.start()
                load.start(users=self.plan.users, spawn_rate=self.plan.users, run_time_s=600,
                           ledger_path=self.ledger_path, timeline_path=self.timeline_path,
                           port_prefix=self.stack.config.port_prefix)
                phase(self.fid, "load warm-up", self.plan.warmup_s)
                time.sleep(self.plan.warmup_s)  # a duration of load, not a wait for a state
                fault = self.plan.make_fault(self.stack)
                if self.plan.before_inject:
                    self.plan.before_inject(self.stack, self.context)
                phase(self.fid, f"inject {fault.name}")
                marks["injected"] = time.time()
                self.nemesis.inject(fault)
                phase(self.fid, "hold", self.plan.hold_s)
                time.sleep(self.plan.hold_s)  # the outage length is the fault's parameter
                self.effect.extend(EffectCheck(e.check, e.ok, e.detail) for e in self.nemesis.evidence(fault))
                phase(self.fid, "heal")
                self.nemesis.heal(fault)
                marks["healed"] = time.time()
                phase(self.fid, "recovery", self.plan.recovery_budget_s)
                marks["recovered"] = self._await_recovery(prober, marks)
                load.stop()
                time.sleep(2.0)  # let the last in-flight probes land inside the window
                prober.stop()
            phase(self.fid, "drain", self.plan.drain_timeout_s)
            marks["drained"] = self._drain()
            sampler.stop()
            phase(self.fid, "audit")
            self._judge(prober, marks)
        except _Abort as exc:
            # An unmet precondition is inconclusive (recorded as failed effect evidence), not a harness bug.
            log.warning("%s aborted: %s", self.fid, exc)
        except Exception as exc:
            log.exception("%s: harness error", self.fid)
            self.errors.append(f"harness error: {exc!r}")
        finally:
            with contextlib.suppress(Exception):
                load.stop()
            if prober is not None:
                prober.stop()
            self.errors += [f"heal of {r.fault.name} failed: {r.heal_error}" for r in self.nemesis.heal_all()]
            if sampler.is_alive():
                sampler.stop()
        return self._record(t0, marks, prober, sampler)

    @property
    def rto_from(self) -> RtoFrom:
        """The instant RTO is measured from: the plan's override, else the claim's."""
        return self.plan.rto_from or self.plan.claim.rto_from

    def _samples(self, prober: Prober) -> list[Sample]:
        canaries = dict(prober.canaries)
        done = observe.completion_times(self.stack.config, list(canaries))
        return prober.snapshot() + canary_samples(canaries, done, self.plan.canary_deadline_s)

    def _await_recovery(self, prober: Prober, marks: dict[str, float | None]) -> float | None:
        # the same reference instant the RTO judgement uses, so "recovered" means the same thing
        reference = marks["healed"] if self.rto_from == "heal" else marks["injected"]
        since = reference or time.time()

        def recovered() -> float | None:
            samples = self._samples(prober)
            times = []
            for domain in self.plan.capabilities:
                rec = measure_recovery(samples, domain, since, time.time())
                if rec.took_effect and rec.recovered_at is None:
                    return None
                if rec.recovered_at is not None:
                    times.append(rec.recovered_at)
            # canaries need their deadline to pass before a run of three can be seen
            return max(times) if times else since  # nothing failed: back as of the reference instant

        try:
            return until(recovered, timeout_s=self.plan.recovery_budget_s, what="affected capabilities back",
                         interval_s=0.5)
        except WaitTimeout as exc:  # the RTO judgement reports it as not recovered
            log.warning("%s: %s", self.fid, exc)
            return None

    def _drain(self) -> float | None:
        ops = read_ledger(self.ledger_path)
        acked = [i for i, o in outcomes_for(ops, "upload").items() if o == "ok"]

        def drained() -> bool:
            if not self.stack.all_healthy():
                return False
            done = observe.results_counts(self.stack.config, self.t0)
            if any(i not in done for i in acked):
                return False
            depths = observe.queue_depths(self.stack.config)
            # drained includes the WAL -> ecoeco_waste sync having caught up (its backoff may lag)
            return not any(n for q, n in depths.items() if q != "dead_letter_queue") and all(
                p == 0 for p in worker_pending(self.stack, unsynced=True).values())

        try:
            until(drained, timeout_s=self.plan.drain_timeout_s, what="drain (every acknowledged upload completed)",
                  interval_s=0.5)
            return time.time()
        except WaitTimeout as exc:
            log.warning("%s: %s", self.fid, exc)
            return None

    def _judge(self, prober: Prober, marks: dict[str, float | None]) -> None:
        cfg = self.stack.config
        claim = self.plan.claim
        ops = read_ledger(self.ledger_path)
        drained = marks["drained"] is not None
        stuck: set[str] = set()
        for worker in observe.WORKERS:
            try:
                stuck |= observe.wal_unfinished(self.stack.wal_host_path(worker))
            except Exception as exc:
                self.errors.append(f"could not read {worker} WAL: {exc!r}")
        try:
            completed: dict[str, int] | None = observe.results_counts(cfg, self.t0)
            dlq = observe.dead_lettered_ids(cfg)
        except Exception as exc:
            completed, dlq = None, set()
            self.errors.append(f"audit read failed: {exc!r}")
        self.judgements += check_rpo(outcomes_for(ops, "upload"), completed, stuck, dlq, drained=drained,
                                     prefix="upload:")
        try:
            chats: dict[str, int] | None = observe.chat_counts(cfg, self.t0)
        except Exception:
            chats = None
        self.judgements += check_rpo(outcomes_for(ops, "chat"), chats, drained=True, prefix="chat:")
        samples = self._samples(prober)
        injected, healed = marks["injected"], marks["healed"]
        assert injected is not None and healed is not None
        end = max(s.t for s in samples) if samples else time.time()
        reference = healed if self.rto_from == "heal" else injected
        for domain in self.plan.capabilities:
            rec = measure_recovery(samples, domain, reference, end, reference=self.rto_from)
            self.judgements.append(judge_rto(rec, claim.rto_limit_s, claim=f"rto:{domain}"))
            self.context[f"rto:{domain}"] = rec
        self.judgements.append(check_isolation(samples, injected, healed, claim.impact))
        self.judgements += self._judge_detection(injected, marks["recovered"])
        unhealthy = self.stack.unhealthy()
        self.judgements.append(Judgement(
            "healthy_after", Verdict.VIOLATED if unhealthy else Verdict.HOLDS, len(unhealthy), 0, "services",
            {"unhealthy": unhealthy} if unhealthy else "every service healthy after the drain"))
        if self.plan.extra_audit:
            self.judgements += self.plan.extra_audit(self.stack, self.context)
        self.context["samples"] = samples

    def _judge_detection(self, injected: float, recovered: float | None) -> list[Judgement]:
        """Detection judged on Prometheus' alert history; an alert still firing after recovery gets a
        bounded time (RESOLVE_WAIT_S) to resolve, polled, before it counts as not resolved."""
        claim, url = self.plan.claim, self.stack.config.url("prometheus")
        deadline = time.monotonic() + RESOLVE_WAIT_S
        while True:
            detection, _ = judge_from_prometheus(claim.alert, injected, recovered, time.time(),
                                                 claim.impact, url=url, min_detectable_s=MIN_DETECTABLE_S)
            unresolved = any(j.claim.startswith("detection_resolved") and j.verdict is Verdict.VIOLATED
                             for j in detection)
            if not unresolved or time.monotonic() >= deadline:
                return detection
            time.sleep(1.0)  # one evaluation interval: the alert history is re-read, not a blind wait

    def _record(self, t0: float, marks: dict[str, float | None], prober: Prober | None,
                sampler: Sampler) -> ScenarioRecord:
        def rel(x: float | None) -> float | None:
            return None if x is None else round(x - t0, 3)

        samples: list[Sample] = self.context.get("samples") or (prober.snapshot() if prober else [])
        probes: dict[str, list[list[float]]] = {}
        for s in sorted(samples, key=lambda s: s.t):
            probes.setdefault(s.domain, []).append([round(s.t - t0, 3), 1.0 if s.ok else 0.0])
        ops = read_ledger(self.ledger_path) if self.ledger_path.exists() else []
        per_second = load_per_second(self.timeline_path, t0)
        verdict = overall_verdict(self.judgements, self.errors, self.effect)
        record = ScenarioRecord(
            fid=self.fid, title=self.plan.claim.title, time_scale=self.stack.config.time_scale,
            timeline=Timeline(t0_unix=t0, end_s=round(time.time() - t0, 3), injected_s=rel(marks["injected"]),
                              healed_s=rel(marks["healed"]), recovered_s=rel(marks["recovered"]),
                              drained_s=rel(marks["drained"])),
            verdict=verdict, judgements=self.judgements, effect=self.effect,
            parameters={"fault": self.plan.claim.fault, "hold_s": self.plan.hold_s, "users": self.plan.users,
                        "rto_from": self.rto_from,
                        "capabilities": list(self.plan.capabilities), "notes": self.plan.notes,
                        **self.plan.parameters},
            load=LoadSummary(per_second=per_second,
                             op_counts={f: c.get("invoke", 0) for f, c in summarise(ops).items()}),
            probes=probes, queue_depth=sampler.series.queue_depth, wal_pending=sampler.series.wal_pending,
            ledger=summarise(ops), errors=[e for e in self.errors if e],
        )
        write_scenario(self.dir.parent, record)
        return record


class _Abort(Exception):
    """The scenario cannot go on (its precondition failed)."""


def load_per_second(path: Path, t0: float) -> list[list[float]]:
    """[t, requests, failures] per second from the Locust timeline file."""
    per: dict[int, list[int]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError, KeyError):
                row = json.loads(line)
                acc = per.setdefault(int(row["t"]), [0, 0])
                acc[0] += int(row["requests"])
                acc[1] += int(row["failures"])
    return [[round(t - t0, 1), r, f] for t, (r, f) in sorted(per.items())]
