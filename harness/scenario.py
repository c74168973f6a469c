"""One chaos scenario, Jepsen style: steady state, load on, inject, prove, hold, heal, recover,
drain, audit the whole history, judge each claim, write the record.

A scenario never passes without proof that its fault bit (a symptom the system itself saw),
that work was in flight where it struck, and that the recovery path its claim relies on ran;
and it always heals what it injected, last in first out, whatever happens in between.
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

from core import counters
from core.checkers.isolation import check_isolation
from core.checkers.rpo import check_rpo
from core.checkers.rto import Recovery, Sample, canary_samples, judge_relapse, judge_rto, measure_recovery
from core.checkers.state import judge_last_write
from core.evidence import EffectCheck
from core.ledger import LedgerWriter, Op, outcomes_for, read_ledger, summarise, unheard
from core.point import FailurePoint
from core.record import LoadSummary, ScenarioRecord, Timeline, overall_verdict, write_scenario
from core.verdict import Judgement, Verdict
from faults.base import Fault
from faults.kinds import make
from faults.nemesis import Nemesis
from faults.wait import WaitTimeout, until
from harness import observe
from harness.alerts import current_alerts, judge_from_prometheus
from harness.cpu import CpuMeter
from harness.deaths import DeathWatch
from harness.probes import Prober, ProbeUser
from harness.progress import phase, scenario_started
from harness.service_logs import keep_logs
from harness.stack import Stack
from harness.workload import DESIGN, Workload
from load.config import OP_SERVICE
from load.driver import LoadRun
from system.settings import SYNC_BACKOFF_BASE_S
from system.workers.sync import MAX_EXPONENT as SYNC_MAX_EXPONENT

log = logging.getLogger(__name__)

# Shortest outage an alert can see at the suite's time scale: `for` (1 min x 0.02) plus a
# scrape and two evaluations of 1 s each; a shorter undetected fault is inconclusive.
MIN_DETECTABLE_S = 5.0
RESOLVE_WAIT_S = 30.0  # how long after the drain an alert may take to resolve before it counts as stuck
DRAIN_TIMEOUT_S = 120.0
STILL_S = 5.0  # nothing held anywhere this long while work is missing: the drain is over
GATE_TIMEOUT_S = 120.0
FINAL_STAGE = ("worker-ai", "response_generator")  # whose WAL output is the stored result
CANARY_DEADLINE_S = 3.0  # a healthy pipeline completes a canary in 1-1.5 s under the design's latencies


@dataclass
class _Series:
    queue_depth: dict[str, list[list[float]]] = field(default_factory=dict)
    wal_pending: dict[str, list[list[float]]] = field(default_factory=dict)


class Sampler(threading.Thread):
    """Queue depths (ready + unacked) and WAL pending rows once a second, for the timeline."""

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
            for q, (ready, unacked) in (observe.queue_counts(self.stack.config) or {}).items():
                self.series.queue_depth.setdefault(q, []).append([t, ready + unacked])
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


def quiet(stack: Stack) -> bool:
    """No work held anywhere: queues empty (ready and unacked), WALs done and synced, outbox empty."""
    counts = observe.queue_counts(stack.config)
    if counts is None or any(r + u for q, (r, u) in counts.items() if q != "dead_letter_queue"):
        return False
    if not all(p == 0 for p in worker_pending(stack, unsynced=True).values()):
        return False
    return not observe.outbox_pending(stack.config)


def steady(stack: Stack) -> bool:
    """Every service healthy, no alert firing, and nothing held anywhere."""
    if not stack.all_healthy():
        return False
    if any(a.get("state") == "firing" for a in current_alerts(stack.config.url("prometheus"))):
        return False
    return quiet(stack)


class Scenario:
    """Runs one failure point's plan against the stack and returns its record."""

    def __init__(
        self,
        stack: Stack,
        point: FailurePoint,
        run_dir: Path,
        *,
        name: str | None = None,
        title: str | None = None,
        parameters: dict[str, Any] | None = None,
        workload: Workload = DESIGN,
        recovery_cap_s: float | None = None,
    ) -> None:
        self.stack, self.point, self.workload = stack, point, workload
        self.recovery_cap_s = recovery_cap_s  # watch for recovery at most this long (controls)
        self.name = name or point.id
        self.title = title or (point.claim.title + (f" ({point.mode})" if point.mode else ""))
        self.extra_parameters = parameters or {}
        self.dir = run_dir / "scenarios"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ledger_path = self.dir / f"{self.name}.ledger.jsonl"
        self.timeline_path = self.dir / f"{self.name}.load.jsonl"
        self.errors: list[str] = []
        self.effect: list[EffectCheck] = []
        self.judgements: list[Judgement] = []
        self.context: dict[str, Any] = {}
        self.phases: dict[str, float] = {}
        self._phase_started = time.monotonic()
        self.nemesis = Nemesis()
        self.fault: Fault | None = None
        self.deaths = DeathWatch(stack.client, stack.config.project)
        self.cpu = CpuMeter(stack.targets.ids_by_service)
        self.down: dict[str, list[tuple[float, float]]] = {}  # service -> spans its container was dead

    def _phase(self, what: str, up_to_s: float | None = None) -> None:
        now = time.monotonic()
        if self.phases:
            last = next(reversed(self.phases))
            self.phases[last] = round(now - self._phase_started, 2)
        self.phases[what] = 0.0
        self._phase_started = now
        self.cpu.mark(what)
        phase(self.name, what, up_to_s)

    def run(self) -> ScenarioRecord:
        """The whole scenario; exceptions become harness errors in the record, never a pass.
        Ctrl-C or SIGTERM heal every fault first, then end the session."""
        if threading.current_thread() is threading.main_thread():
            with self.nemesis.sigint_heals():
                return self._run()
        return self._run()

    def _run(self) -> ScenarioRecord:
        scenario_started()
        t0 = self.t0 = time.time()
        marks: dict[str, float | None] = {
            "injected": None,
            "healed": None,
            "released": None,
            "recovered": None,
            "drained": None,
        }
        prober: Prober | None = None
        sampler = Sampler(self.stack, t0)
        load = LoadRun(self.dir / f"{self.name}-locust")
        w = self.workload
        try:
            self._phase("steady-state gate", GATE_TIMEOUT_S)
            try:
                until(lambda: steady(self.stack), timeout_s=GATE_TIMEOUT_S, what="steady state before injection")
            except WaitTimeout as exc:
                self.effect.append(EffectCheck("steady state before injection", False, str(exc)))
                raise _Abort(f"steady state not reached: {self.stack.unhealthy()}") from exc
            self.deaths.start()  # before any write: a death the history meets is one it saw
            with contextlib.ExitStack() as probing:
                ledger = probing.enter_context(LedgerWriter(self.ledger_path, "canary"))
                prober = Prober(self.stack.config, ProbeUser(self.stack.config), ledger)
                probing.callback(prober.stop)  # runs before the ledger closes, also on an error
                prober.start()
                sampler.start()
                users = w.upload_users + w.other_users
                load.start(
                    users=users,
                    spawn_rate=users,
                    run_time_s=1800,
                    ledger_path=self.ledger_path,
                    timeline_path=self.timeline_path,
                    port_prefix=self.stack.config.port_prefix,
                    upload_plan=(w.photo_uploads_per_s, w.upload_users),
                )
                self._phase("load warm-up", w.warmup_s)
                self._warm_up()
                fault = self.fault = make(self.point.fault, self.stack)
                before = self._scrape()
                for audit in self.point.audits:
                    if audit in BEFORE_INJECT:
                        BEFORE_INJECT[audit](self)
                self.context["in_flight"] = observe.in_flight(self.stack.config)
                self._phase(f"inject {fault.name}")
                marks["injected"] = time.time()
                self.nemesis.inject(fault)
                self._phase("hold", self.point.hold_s)
                time.sleep(self.point.hold_s)  # the outage length is the fault's parameter
                self.effect.extend(self.nemesis.evidence(fault))
                # what the fault holds back now is what a last kill at heal, or the heal itself, meets
                self.context["in_flight_at_heal"] = observe.in_flight(self.stack.config)
                at_heal = self._scrape()  # a restart at heal must not hide what the old process counted
                self._phase("heal")
                self.nemesis.heal(fault)
                marks["healed"] = time.time()
                marks["released"] = fault.released_at() or marks["healed"]
                if "rto" in self.point.checkers:
                    budget = min(self.point.claim.rto_limit_s, self.recovery_cap_s or float("inf"))
                    self._phase("recovery", budget)
                    marks["recovered"] = self._await_recovery(prober, marks, budget)
                load.stop()
                time.sleep(2.0)  # let the last in-flight probes land inside the window
                prober.stop()
            self._phase("drain", DRAIN_TIMEOUT_S)
            marks["drained"] = self._drain()
            sampler.stop()
            self._phase("audit")
            self.context["growth"] = self._growth([before, at_heal, self._scrape()])
            self._judge(prober, marks)
        except _Abort as exc:
            # An unmet precondition is inconclusive (recorded as failed effect evidence), not a harness bug.
            log.warning("%s aborted: %s", self.name, exc)
        except Exception as exc:
            log.exception("%s: harness error", self.name)
            self.errors.append(f"harness error: {exc!r}")
        finally:
            with contextlib.suppress(Exception):
                load.stop()
            if prober is not None:
                prober.stop()
            self.errors += [f"heal of {r.fault.name} failed: {r.heal_error}" for r in self.nemesis.heal_all()]
            if sampler.is_alive():
                sampler.stop()
            self.deaths.stop()
        self._phase("done")
        return self._record(t0, marks, prober, sampler)

    # ---- the system's own counters ------------------------------------------------------------

    def _counted(self) -> list[counters.CounterSpec]:
        return [*self.point.symptoms, *self.point.exercises]

    def _scrape(self) -> dict[str, counters.Snapshot]:
        services = {c.service for c in self._counted()}
        return {s: observe.scrape(f"{self.stack.config.url(s)}/metrics") for s in services}

    def _growth(self, scrapes: list[dict[str, counters.Snapshot]]) -> dict[str, Any]:
        return {c.key: counters.growth_over(c, [at[c.service] for at in scrapes]) for c in self._counted()}

    # ---- phases ---------------------------------------------------------------------------------

    def _samples(self, prober: Prober) -> list[Sample]:
        canaries = dict(prober.canaries)
        done = observe.completion_times(self.stack.config, list(canaries))
        return prober.snapshot() + canary_samples(canaries, done, CANARY_DEADLINE_S, now=time.time())

    def _recovery(self, samples: list[Sample], domain: str, marks: dict[str, float | None], until_t: float) -> Recovery:
        injected, released = marks["injected"], marks["released"]
        assert injected is not None and released is not None
        reference = "last SIGKILL" if self.fault is not None and self.fault.released_at() else "heal"
        # recovered = back, and still up `relapse_s` later (a run of luck in a backlog's drain is not)
        return measure_recovery(
            samples, domain, released, until_t, reference=reference, injected=injected, stable_s=self.workload.relapse_s
        )

    def _await_recovery(self, prober: Prober, marks: dict[str, float | None], budget_s: float) -> float | None:
        def recovered() -> float | None:
            samples = self._samples(prober)
            times = []
            for domain in self.point.watch:
                rec = self._recovery(samples, domain, marks, time.time())
                if rec.took_effect and rec.recovered_at is None:
                    return None
                times.append(rec.recovered_at or rec.since)
            return max(times) if times else None

        released = marks["released"] or time.time()
        try:
            # the budget is the claim, counted from the reference instant: never back by then is VIOLATED
            return until(
                recovered,
                timeout_s=max(1.0, released + budget_s - time.time()),
                what="watched capabilities back",
                interval_s=0.5,
            )
        except WaitTimeout as exc:  # the RTO judgement reports it as not recovered
            log.warning("%s: %s", self.name, exc)
            return None

    def _warm_up(self) -> None:
        """Load until the fault would meet work in flight: Locust's photo uploads acknowledged, the
        pipeline completing uploads end to end, and work held where the point strikes (anywhere when
        it names no place). At least `warmup_min_s` of load, at most `warmup_s`: a point whose places
        fill only during its fault then meets the load it always met, and the in-flight check, not
        this wait, judges what the fault found."""
        w, started = self.workload, time.monotonic()

        def flowing() -> bool:
            if time.monotonic() - started < w.warmup_min_s:
                return False
            if not any(
                o.process != "canary" for o in read_ledger(self.ledger_path) if o.f == "upload" and o.type == "ok"
            ):
                return False
            if not observe.results_counts(self.stack.config, self.t0):
                return False
            held = observe.in_flight(self.stack.config)
            return sum(held.get(p, 0) for p in (self.point.strikes or tuple(held))) > 0

        with contextlib.suppress(WaitTimeout):  # the cap is the old fixed warm-up, never a failure
            until(flowing, timeout_s=w.warmup_s, what="work in flight where the fault strikes", interval_s=0.25)

    def _acked_uploads(self) -> list[str]:
        return [i for i, o in outcomes_for(read_ledger(self.ledger_path), "upload").items() if o == "ok"]

    def _drain(self) -> float | None:
        """When every acknowledged upload completed and nothing is held anywhere; None if that never
        came: by the deadline, or once nothing has been held anywhere for STILL_S while some are
        missing (no work left in the system can complete them: they are lost, waiting proves nothing)."""
        acked = self._acked_uploads()
        still_since: list[float] = []
        # no acknowledged upload completing for longer than the longest wait the system itself
        # schedules (the capped sync and retry backoff) means nothing will: the drain is over
        stall_s = self.stack.config.time_scale * SYNC_BACKOFF_BASE_S * 2**SYNC_MAX_EXPONENT + STILL_S
        progress = {"done": -1, "at": time.monotonic()}

        def drained() -> bool | str:
            if not self.stack.all_healthy():
                still_since.clear()
                return False
            done = observe.results_counts(self.stack.config, self.t0)
            complete = all(i in done for i in acked)
            finished = sum(1 for i in acked if i in done)
            if finished != progress["done"]:
                progress["done"], progress["at"] = finished, time.monotonic()
            elif not complete and time.monotonic() - progress["at"] >= stall_s:
                return "stalled"
            # drained includes the WAL -> ecoeco_waste sync having caught up (its backoff may lag)
            if not quiet(self.stack):
                still_since.clear()
                return False
            if complete:
                return True
            still_since[:] = still_since or [time.monotonic()]
            return "still" if time.monotonic() - still_since[0] >= STILL_S else False

        try:
            outcome = until(
                drained, timeout_s=DRAIN_TIMEOUT_S, what="drain (every acknowledged upload completed)", interval_s=0.5
            )
        except WaitTimeout as exc:
            log.warning("%s: %s", self.name, exc)
            return None
        if outcome == "still":
            log.warning(
                "%s: nothing held anywhere for %.0f s, yet acknowledged uploads are missing", self.name, STILL_S
            )
            return None
        if outcome == "stalled":
            log.warning("%s: no acknowledged upload completed for %.0f s: the drain is over", self.name, stall_s)
            return None
        return time.time()

    # ---- judging --------------------------------------------------------------------------------

    def _judge(self, prober: Prober, marks: dict[str, float | None]) -> None:
        ops = read_ledger(self.ledger_path)
        self.down = self.deaths.spans(apis=set(OP_SERVICE.values()))
        self.context["down_spans"] = {
            s: [[round(a - self.t0, 2), round(b - self.t0, 2)] for a, b in v] for s, v in self.down.items()
        }
        drained = marks["drained"] is not None
        self.judgements += self._judge_uploads(ops, drained)
        self.judgements += self._judge_other_writes(ops)
        samples = self._samples(prober)
        injected, healed = marks["injected"], marks["healed"]
        assert injected is not None and healed is not None
        end = max(s.t for s in samples) if samples else time.time()
        claim, checkers = self.point.claim, self.point.checkers
        recoveries = [self._recovery(samples, d, marks, end) for d in self.point.watch]
        if "rto" in checkers:
            for rec in recoveries:
                self.judgements.append(judge_rto(rec, claim.rto_limit_s, claim=f"rto:{rec.domain}"))
                self.judgements.append(judge_relapse(rec))
                self.context[f"rto:{rec.domain}"] = rec
        if self.point.self_repair:
            self.judgements.append(self._judge_self_repair())
        if "isolation" in checkers:
            # the blast radius is watched until the broken capability serves again, not until heal
            back = [r.recovered_at for r in recoveries if r.took_effect]
            until_back = max([healed, *(t if t is not None else end for t in back)])
            self.judgements.append(check_isolation(samples, injected, until_back, claim.impact))
        if "detection" in checkers:
            # without an RTO claim (F9: the worker is back within a second) the alert's episode must
            # end after heal, once the system dealt with the damage
            recovered = marks["recovered"] if "rto" in checkers else healed
            self.judgements += self._judge_detection(injected, recovered)
        if "healthy_after" in checkers:
            unhealthy = self.stack.unhealthy()
            self.judgements.append(
                Judgement(
                    "healthy_after",
                    Verdict.VIOLATED if unhealthy else Verdict.HOLDS,
                    len(unhealthy),
                    0,
                    "services",
                    {"unhealthy": unhealthy} if unhealthy else "every service healthy after the drain",
                )
            )
        if "in_flight" in checkers:
            self.judgements.append(self._judge_in_flight())
        self._judge_counters()
        for audit in self.point.audits:
            self.judgements += EXTRA_AUDITS[audit](self)
        self.context["samples"] = samples

    def _judge_uploads(self, ops: list[Op], drained: bool) -> list[Judgement]:
        cfg = self.stack.config
        held: dict[str, set[str]] = {}
        for worker in observe.WORKERS:
            try:
                held[f"wal:{worker}"] = observe.wal_unfinished(self.stack.wal_host_path(worker))
            except Exception as exc:
                self.errors.append(f"could not read {worker} WAL: {exc!r}")
        try:
            held["outbox"] = observe.outbox_pending(cfg)
            if not drained:  # where is the rest? (reading a queue is a delivery: only when stuck)
                held.update({f"queue:{q}": ids for q, ids in observe.queued_ids(cfg).items()})
            completed: dict[str, int] | None = observe.results_counts(cfg, self.t0)
            dlq = observe.dead_lettered_ids(cfg)
            records = {"tasks row": observe.accepted_tasks(cfg, self.t0)}
            if "s3_objects" in self.point.audits:
                records["S3 object"] = observe.s3_keys(cfg)
            mismatched = self._mismatched_results(completed or {})
        except Exception as exc:
            completed, dlq, records, mismatched = None, set(), {}, set()
            self.errors.append(f"audit read failed: {exc!r}")
        return check_rpo(
            outcomes_for(ops, "upload"),
            completed,
            held,
            dlq,
            records=records,
            mismatched=mismatched,
            drained=drained,
            prefix="upload:",
            unheard=self._unheard(ops, "upload"),
        )

    def _unheard(self, ops: list[Op], f: str) -> frozenset[str]:
        """Writes of kind `f` sent only while their service's process was dead (core.ledger.unheard)."""
        return unheard(ops, f, self.down.get(OP_SERVICE[f], []))

    def _mismatched_results(self, completed: dict[str, int]) -> set[str]:
        """Tasks whose stored result is not the output the final stage recorded in its WAL."""
        worker, stage = FINAL_STAGE
        produced = observe.wal_outputs(self.stack.wal_host_path(worker), stage)
        stored = observe.stored_results(self.stack.config, [t for t in completed if t in produced])
        return {t for t, result in stored.items() if result != produced[t]}

    def _judge_other_writes(self, ops: list[Op]) -> list[Judgement]:
        cfg = self.stack.config
        out: list[Judgement] = []
        try:
            chats: dict[str, int] | None = observe.chat_counts(cfg, self.t0)
        except Exception:
            chats = None
        out += check_rpo(outcomes_for(ops, "chat"), chats, prefix="chat:", unheard=self._unheard(ops, "chat"))
        registered = outcomes_for(ops, "register")
        profile_ops = [op for op in ops if op.f == "profile"]
        key_of = {op.id: op.id.rsplit("~", 1)[0] for op in profile_ops}
        try:
            accounts = observe.users(cfg, sorted(set(registered) | set(key_of.values())))
        except Exception as exc:
            self.errors.append(f"could not read ecoeco_auth: {exc!r}")
            return out
        out += check_rpo(
            registered,
            {u: 1 for u in accounts if u in registered},
            prefix="register:",
            unheard=self._unheard(ops, "register"),
        )[:1]
        if profile_ops:
            out.append(judge_last_write(ops, "profile", key_of, accounts, claim="profile:last_write"))
        return out

    def _judge_self_repair(self) -> Judgement:
        """The claim's repair is the platform's (a restart policy): the harness must not have had to."""
        by_hand = self.fault.started_by_hand() if self.fault is not None else []
        if by_hand:
            return Judgement(
                "self_repair",
                Verdict.VIOLATED,
                len(by_hand),
                0,
                "containers",
                {
                    "started_by_the_harness": by_hand,
                    "reason": "nothing restarted them: the harness started them after its grace period",
                },
            )
        return Judgement("self_repair", Verdict.HOLDS, 0, 0, "containers", "the restart policy repaired every crash")

    def _judge_in_flight(self) -> Judgement:
        """Work must have been in flight where the fault struck (or anywhere, if the record names no
        place): at the injection, or at the heal (where a crash loop's last kill, or the repair, meets it)."""
        seen: dict[str, int] = self.context.get("in_flight", {})
        at_heal: dict[str, int] = self.context.get("in_flight_at_heal", {})
        places = self.point.strikes or tuple(seen)
        held = max(sum(seen.get(p, 0) for p in places), sum(at_heal.get(p, 0) for p in places))
        evidence = {"at_injection": seen, "at_heal": at_heal, "where_it_strikes": list(places)}
        if held > 0:
            return Judgement("in_flight", Verdict.HOLDS, held, 1, "tasks", evidence)
        return Judgement(
            "in_flight",
            Verdict.INCONCLUSIVE,
            held,
            1,
            "tasks",
            {**evidence, "reason": "the fault hit an idle system: nothing was in flight where it struck"},
        )

    def _judge_counters(self) -> None:
        """Symptoms prove the fault bit (effect evidence); exercises prove the recovery path ran."""
        growth: dict[str, float | None] = self.context.get("growth", {})
        for spec in self.point.symptoms:
            g = growth.get(spec.key)
            self.effect.append(EffectCheck(f"symptom {spec.key}", bool(g), f"{spec.what}: grew by {g}"))
        for spec in self.point.exercises:
            g = growth.get(spec.key)
            evidence = {"counter": spec.key, "what": spec.what, "growth": g}
            if g:
                self.judgements.append(Judgement(f"exercised:{spec.key}", Verdict.HOLDS, g, 1, "events", evidence))
            else:
                evidence["reason"] = "the recovery path this claim relies on did not run"
                self.judgements.append(
                    Judgement(f"exercised:{spec.key}", Verdict.INCONCLUSIVE, g, 1, "events", evidence)
                )

    def _judge_detection(self, injected: float, recovered: float | None) -> list[Judgement]:
        """Detection judged on Prometheus' alert history; an alert still firing after recovery gets a
        bounded time (RESOLVE_WAIT_S) to resolve, polled, before it counts as not resolved."""
        claim, url = self.point.claim, self.stack.config.url("prometheus")
        deadline = time.monotonic() + RESOLVE_WAIT_S
        while True:
            detection, _ = judge_from_prometheus(
                claim.alert, injected, recovered, time.time(), claim.impact, url=url, min_detectable_s=MIN_DETECTABLE_S
            )
            unresolved = any(
                j.claim.startswith("detection_resolved") and j.verdict is Verdict.VIOLATED for j in detection
            )
            if not unresolved or time.monotonic() >= deadline:
                return detection
            time.sleep(1.0)  # one evaluation interval: the alert history is re-read, not a blind wait

    # ---- the record -----------------------------------------------------------------------------

    def _record(
        self, t0: float, marks: dict[str, float | None], prober: Prober | None, sampler: Sampler
    ) -> ScenarioRecord:
        def rel(x: float | None) -> float | None:
            return None if x is None else round(x - t0, 3)

        samples: list[Sample] = self.context.get("samples") or (prober.snapshot() if prober else [])
        probes: dict[str, list[list[float]]] = {}
        for s in sorted(samples, key=lambda s: s.t):
            probes.setdefault(s.domain, []).append([round(s.t - t0, 3), 1.0 if s.ok else 0.0])
        ops = read_ledger(self.ledger_path) if self.ledger_path.exists() else []
        per_second = load_per_second(self.timeline_path, t0)
        verdict = overall_verdict(self.judgements, self.errors, self.effect)
        fault_ran = self.fault.describe() if self.fault is not None else None
        logs_dir = self.dir / f"{self.name}.logs"
        kept = keep_logs(self.stack.targets, logs_dir, t0) if verdict is not Verdict.HOLDS else {}
        record = ScenarioRecord(
            fid=self.name,
            title=self.title,
            time_scale=self.stack.config.time_scale,
            timeline=Timeline(
                t0_unix=t0,
                end_s=round(time.time() - t0, 3),
                injected_s=rel(marks["injected"]),
                healed_s=rel(marks["healed"]),
                recovered_s=rel(marks["recovered"]),
                drained_s=rel(marks["drained"]),
            ),
            verdict=verdict,
            judgements=self.judgements,
            effect=self.effect,
            parameters={
                "point": self.point.to_dict(),
                "fault_ran": fault_ran,
                "rto_from": self._rto_from(),
                "released_s": rel(marks["released"]),
                "in_flight_at_injection": self.context.get("in_flight"),
                "in_flight_at_heal": self.context.get("in_flight_at_heal"),
                "counter_growth": self.context.get("growth"),
                "down_spans_s": self.context.get("down_spans"),  # service -> [[died, started]] from t0
                "phases_s": self.phases,
                "cpu_by_phase": self.cpu.by_phase(),  # cores: host busy / steal / iowait, busiest containers
                "workload": {
                    "photo_uploads_per_s": self.workload.photo_uploads_per_s,
                    "canary_uploads_per_s": self.workload.canary_uploads_per_s,
                    "users": self.workload.upload_users + self.workload.other_users,
                },
                "known_false": dict(self.point.known_false),
                "service_logs": f"{logs_dir.name}/" if kept else None,  # kept only when it did not hold
                "log_errors": {svc: lines for svc, lines in kept.items() if lines} if kept else None,
                **self.extra_parameters,
            },
            load=LoadSummary(
                per_second=per_second, op_counts={f: c.get("invoke", 0) for f, c in summarise(ops).items()}
            ),
            probes=probes,
            queue_depth=sampler.series.queue_depth,
            wal_pending=sampler.series.wal_pending,
            ledger=summarise(ops),
            errors=[e for e in self.errors if e],
        )
        write_scenario(self.dir.parent, record)
        return record

    def _rto_from(self) -> str:
        """What RTO was measured from, as the record states it."""
        if self.fault is not None and self.fault.released_at() is not None:
            return "the last SIGKILL (the platform's repair starts there)"
        return "heal (the fault lasts until the harness removes it)"


class _Abort(Exception):
    """The scenario cannot go on (its precondition failed)."""


def _wal_keys(stack: Stack, worker: str, completed_only: bool = False) -> set[tuple[str, str]]:
    import sqlite3

    conn = sqlite3.connect(f"file:{stack.wal_host_path(worker)}?mode=ro", uri=True, timeout=5)
    where = " WHERE status='completed'" if completed_only else ""
    try:
        return {(str(t), str(n)) for t, n in conn.execute(f"SELECT task_id, task_name FROM task_wal{where}")}
    finally:
        conn.close()


def _mirrored_keys(stack: Stack, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of `keys` ecoeco_waste's task_stages (the WAL's mirror) holds."""
    with contextlib.closing(observe.pg(stack.config, "pg-waste")) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, task_name FROM task_stages WHERE task_id = ANY(%s)", ([t for t, _ in keys],))
        return {(str(t), str(n)) for t, n in cur.fetchall()} & set(keys)


def judge_rows_kept(
    dropped: dict[str, list[tuple[object, ...]]], back: set[tuple[str, str]], where: dict[str, int] | None = None
) -> Judgement:
    """F9: every task_wal row the damage dropped (gone, or back to an earlier version) must be done
    again by the end: completed in the WAL (redelivered, republished) or in its mirror in
    ecoeco_waste (synced, or rebuilt from there). `back` holds the keys found so."""
    rows = dropped.get("task_wal", [])
    per_table = {t: len(r) for t, r in dropped.items()}
    if not rows:
        return Judgement(
            "wal_rows_kept",
            Verdict.INCONCLUSIVE,
            None,
            0,
            "rows",
            {
                "reason": "the damage dropped no committed task_wal row: there was nothing to get back",
                "dropped_per_table": per_table,
            },
        )
    keys = sorted({(str(r[0]), str(r[1])) for r in rows})
    missing = [k for k in keys if k not in back]
    return Judgement(
        "wal_rows_kept",
        Verdict.VIOLATED if missing else Verdict.HOLDS,
        len(missing),
        0,
        "rows",
        {
            "compared": "rows the damage dropped (the WAL as SQLite read it halted vs damaged) against the "
            "completed rows of the WAL and the task_stages mirror at the end",
            "dropped": len(keys),
            "dropped_per_table": per_table,
            "dropped_sample": [f"{r[0]}/{r[1]} ({r[4]})" for r in rows[:10]],
            "missing": [f"{t}/{n}" for t, n in missing[:10]],
            **(where or {}),
        },
    )


def _audit_wal_rows_kept(scenario: Scenario) -> list[Judgement]:
    """F9's audit (see judge_rows_kept). Without the fault's comparison, committed rows of before the
    injection must still be there at the end (later redos can hide a loss there)."""
    dropped = getattr(scenario.fault, "rows_dropped", None)
    if dropped is not None:
        keys = sorted({(str(r[0]), str(r[1])) for r in dropped.get("task_wal", [])})
        in_wal: set[tuple[str, str]] = set()
        mirrored: set[tuple[str, str]] = set()
        if keys:
            in_wal = _wal_keys(scenario.stack, "worker-storage", completed_only=True) & set(keys)
            mirrored = _mirrored_keys(scenario.stack, keys)
        # rows the mirror holds and the WAL does not were rebuilt from ecoeco_waste (or pruned after a sync)
        where = {"back_in_wal": len(in_wal), "in_mirror_only": len(mirrored - in_wal)}
        return [judge_rows_kept(dropped, in_wal | mirrored, where)]
    before: set[tuple[str, str]] = scenario.context.get("wal_before", set())
    if not before:
        return [
            Judgement(
                "wal_rows_kept",
                Verdict.INCONCLUSIVE,
                None,
                0,
                "rows",
                {"reason": "the WAL could not be read before the damage"},
            )
        ]
    lost = sorted(before - _wal_keys(scenario.stack, "worker-storage"))
    verdict = Verdict.VIOLATED if lost else Verdict.HOLDS
    return [
        Judgement(
            "wal_rows_kept",
            verdict,
            len(lost),
            0,
            "rows",
            {"committed_before": len(before), "vanished": len(lost), "sample": [f"{t}/{n}" for t, n in lost[:10]]},
        )
    ]


def _remember_wal_rows(scenario: Scenario) -> None:
    scenario.context["wal_before"] = _wal_keys(scenario.stack, "worker-storage")


BEFORE_INJECT: dict[str, Callable[[Scenario], None]] = {"wal_rows_kept": _remember_wal_rows}
EXTRA_AUDITS: dict[str, Callable[[Scenario], list[Judgement]]] = {
    "wal_rows_kept": _audit_wal_rows_kept,
    "s3_objects": lambda scenario: [],  # judged inside upload:rpo (every acknowledged image stored)
}


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
