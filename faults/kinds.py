"""Faults made from data: a registry of kinds, like Toxiproxy's toxics, so a failure point names
its fault (`FaultSpec("crash_loop", {"service": "worker-ai", "busy": True})`) instead of
constructing it, and a record stores what really ran (`Fault.describe()`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from core.evidence import EffectCheck
from core.point import FaultSpec
from faults.base import Fault
from faults.block_queue import BlockQueue
from faults.corrupt_wal import CorruptWal
from faults.crash import Crash, CrashAtHeal
from faults.crash_loop import CrashLoop
from faults.cut_network import CutLink
from faults.deny_queue import DenyQueue
from faults.exhaust_pool import ExhaustPool
from faults.fill_disk import FillDisk
from faults.gpt_outage import GptOutage
from faults.pause import Pause
from faults.poison_messages import PoisonMessages
from faults.refuse_commits import RefuseCommits
from faults.s3_outage import S3Outage
from faults.stop import Stop
from faults.target import Project


class Context(Protocol):
    """What a fault needs from the run: the project's containers and the services' addresses."""

    @property
    def targets(self) -> Project: ...

    def url(self, service: str) -> str: ...

    @property
    def gpt_control_file(self) -> Path: ...

    def ready_check(self, service: str) -> Callable[[], bool]:
        """True while the service does its real work (an HTTP health 200, a database query)."""
        ...

    def work_in_hand(self, service: str) -> Callable[[], bool] | None:
        """True while the service holds work a kill would interrupt (a worker: WAL rows not done);
        None where the run cannot see it."""
        ...

    def replayed(self, service: str) -> Callable[[], bool] | None:
        """True once the service's current process replayed work at its start (a worker: WAL rows
        republished); None where the service replays nothing of its own."""
        ...


class AllOf(Fault):
    """Several faults as one: injected in order, healed in reverse."""

    name = "all_of"

    def __init__(self, faults: Sequence[Fault]) -> None:
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

    def evidence(self) -> list[EffectCheck]:
        """Every part's evidence."""
        return [e for f in self.faults for e in f.evidence()]

    def describe(self) -> dict[str, Any]:
        """Every part's parameters."""
        return {"fault": self.name, "parts": [f.describe() for f in self.faults]}

    def released_at(self) -> float | None:
        """The last part to release, or None if any part lasts until heal."""
        times = [f.released_at() for f in self.faults]
        return None if not times or any(t is None for t in times) else max(t for t in times if t is not None)

    def started_by_hand(self) -> list[str]:
        """Every part's."""
        return [name for f in self.faults for name in f.started_by_hand()]


class Together(AllOf):
    """Several faults injected at the same instant (one thread each), healed in reverse: a whole
    cluster stopped or frozen at once, not node after node."""

    name = "together"

    def inject(self) -> None:
        """Inject every part concurrently; the first failure is raised once all have finished."""
        self._injected = list(self.faults)  # heal every part, whichever of them got through
        errors: list[BaseException] = []

        def one(f: Fault) -> None:
            try:
                f.inject()
            except BaseException as exc:  # re-raised below, after every thread joined
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(f,), name=f"inject-{f.name}") for f in self.faults]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]


Factory = Callable[[Context, Mapping[str, Any]], Fault]


def _each(make: Callable[[Context, str], Fault], key: str = "services", together: bool = False) -> Factory:
    """One fault per named target, as one AllOf (Together: all at once); a single target stays itself."""

    def factory(ctx: Context, p: Mapping[str, Any]) -> Fault:
        faults = [make(ctx, name) for name in p[key]]
        if len(faults) == 1:
            return faults[0]
        return Together(faults) if together else AllOf(faults)

    return factory


KINDS: dict[str, Factory] = {
    # SIGKILL of every listed service at once; the restart policy repairs
    "crash": lambda ctx, p: Crash(ctx.targets, list(p["services"])),
    # nothing until heal, then a SIGKILL while the faults injected with it still act
    "crash_at_heal": lambda ctx, p: CrashAtHeal(
        ctx.targets, p.get("services") or p["service"], await_restart=bool(p.get("await_restart", True))
    ),
    # killed whenever it runs until heal; `busy`: then once more while it serves again
    "crash_loop": lambda ctx, p: CrashLoop(
        ctx.targets,
        p["service"],
        ready=ctx.ready_check(p["service"]) if p.get("busy") else None,
        holding=ctx.work_in_hand(p["service"]) if p.get("busy") else None,
        replayed=ctx.replayed(p["service"]) if p.get("busy") else None,
        loop=bool(p.get("loop", True)),
        busy_kills=int(p.get("busy_kills", 1)),
        busy_s=float(p.get("busy_s", 1.0)),
    ),
    "stop": _each(lambda ctx, s: Stop(ctx.targets, s), together=True),
    "pause": _each(lambda ctx, s: Pause(ctx.targets, s), together=True),
    "cut_link": lambda ctx, p: _each(
        lambda c, src: CutLink(c.targets, src, p["destination"], probe_port=p.get("probe_port")), "sources"
    )(ctx, p),
    "exhaust_pool": lambda ctx, p: ExhaustPool(
        ctx.targets, p["service"], reset_clients=tuple(p.get("reset_clients", ()))
    ),
    # every statement runs, every COMMIT of a transaction that wrote one of `tables` is refused
    "refuse_commits": lambda ctx, p: RefuseCommits(
        ctx.targets, p["service"], p.get("dbname", "ecoeco_waste"), tuple(p["tables"])
    ),
    "fill_disk": lambda ctx, p: _each(
        lambda c, v: FillDisk(c.targets, v, max_fill_bytes=int(p["volumes"][v])), "volumes"
    )(ctx, p),
    "corrupt_wal": lambda ctx, p: CorruptWal(ctx.targets, p["service"], mode=p.get("mode", "truncate")),
    "poison": lambda ctx, p: _each(lambda c, q: PoisonMessages(c.targets, q, count=int(p.get("count", 3))), "queues")(
        ctx, p
    ),
    "block_queue": lambda ctx, p: BlockQueue(ctx.targets, p["queue"]),
    # nobody may consume from the queue (read denied, consumers disconnected); publishers still fill it
    "deny_queue": lambda ctx, p: DenyQueue(ctx.targets, p["queue"]),
    "gpt_outage": lambda ctx, p: GptOutage(
        p["family"],
        p.get("mode", "error"),
        control_file=ctx.gpt_control_file,
        metrics_url=f"{ctx.url('worker-ai')}/metrics",
    ),
    "s3_outage": lambda ctx, p: S3Outage(ctx.targets, p.get("how", "pause")),
}


def make(spec: FaultSpec, ctx: Context) -> Fault:
    """The fault a spec names; KeyError lists the known kinds."""
    if spec.kind == "all_of":
        return AllOf([make(part, ctx) for part in spec.parts])
    try:
        factory = KINDS[spec.kind]
    except KeyError:
        raise KeyError(f"unknown fault kind {spec.kind!r}; known: {', '.join(sorted(KINDS))}, all_of") from None
    return factory(ctx, spec.params)
