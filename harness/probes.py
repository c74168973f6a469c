"""Probes: each domain's capability tried at >= 5 Hz, and pipeline canaries, as RTO samples.

Each probe is one real operation of its domain (never /health), so "serving" means what a
user would see. Waste's probe is an authenticated upload: the canary, whose acceptance (202)
is waste's sample and whose completion, read later from ecoeco_waste, is the pipeline's,
judged at its submit time. A probe that hangs fills the time it hung with failed samples, one
per probe period, so a neighbour that stops answering counts as down, not as unobserved.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable

import httpx

from core.checkers.rto import Sample
from core.ledger import LedgerWriter
from harness.config import HarnessConfig
from harness.workload import DESIGN
from load.images import photo_pool
from load.outcome import classify

PROBE_HZ = 5.0
# A login costs a password hash (Argon2id, ~45 ms of a core): five a second would be the harness's
# own load on the auth domain, on two cores shared by the whole stack, so auth is sampled once a second.
PROBE_HZ_BY_DOMAIN = {"auth": 1.0}
CANARY_PERIOD_S = 1.0 / DESIGN.canary_uploads_per_s
# Canaries are photos near the workload's median size (log-uniform 20 KiB-1 MiB: ~140 KiB), not
# a 70-byte PNG: a tiny row fits in pages PostgreSQL already holds, so with its disk full (F14)
# the canaries were accepted while every photo upload got 503, and "waste" looked untouched.
CANARY_PHOTO_BYTES = (100 * 1024, 200 * 1024)


def ledgered_write(
    ledger: LedgerWriter, f: str, op_id: str, expected_status: int, send: Callable[[], httpx.Response]
) -> bool:
    """Send one write, recording invoke then ok / fail / info exactly as the load does."""
    ledger.record("invoke", f, op_id)
    try:
        response = send()
        outcome = classify(expected_status, response.status_code, None)
    except httpx.HTTPError as exc:
        outcome = classify(expected_status, 0, exc)
    ledger.record(outcome.type, f, op_id, outcome.error)
    return outcome.type == "ok"


class ProbeUser:
    """A registered user whose token the probes use."""

    def __init__(self, config: HarnessConfig) -> None:
        self.config = config
        self.username = f"probe-{uuid.uuid4().hex[:12]}"
        with httpx.Client(timeout=5) as c:
            auth = config.url("auth-api")
            c.post(f"{auth}/auth/register", json={"username": self.username, "password": "probe-pass"})
            resp = c.post(f"{auth}/auth/login", json={"username": self.username, "password": "probe-pass"})
            resp.raise_for_status()
            self.token: str = resp.json()["token"]

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


def domain_checks(
    config: HarnessConfig, user: ProbeUser, ledger: LedgerWriter
) -> dict[str, Callable[[httpx.Client], bool]]:
    """One real operation per domain; True when it succeeded. Chat probes are writes: ledgered too."""
    h = user.headers
    conv = f"probe-{uuid.uuid4().hex[:8]}"

    def chat(c: httpx.Client) -> bool:
        message_id = f"probe-{uuid.uuid4().hex}"
        return ledgered_write(
            ledger,
            "chat",
            message_id,
            201,
            lambda: c.post(
                f"{config.url('chat-llm-api')}/chat/messages",
                headers=h,
                json={"message_id": message_id, "conversation_id": conv, "text": "probe"},
            ),
        )

    return {
        "auth": lambda c: (
            c.post(
                f"{config.url('auth-api')}/auth/login", json={"username": user.username, "password": "probe-pass"}
            ).status_code
            == 200
        ),
        "userinfo": lambda c: c.get(f"{config.url('userinfo-api')}/users/me", headers=h).status_code == 200,
        "location": lambda c: (
            c.get(f"{config.url('location-api')}/sites", params={"lat": 37.55, "lon": 126.95}).status_code == 200
        ),
        "recycle": lambda c: c.get(f"{config.url('recycle-api')}/categories").status_code == 200,
        "chat": chat,
    }


class Prober:
    """Background threads sampling every domain and submitting canaries until stopped."""

    def __init__(self, config: HarnessConfig, user: ProbeUser, ledger: LedgerWriter) -> None:
        self.config, self.user, self.ledger = config, user, ledger
        self.samples: list[Sample] = []
        self.canaries: dict[str, float] = {}  # acknowledged canary id -> submit time
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one thread per domain plus the canary thread."""
        for domain, check in domain_checks(self.config, self.user, self.ledger).items():
            t = threading.Thread(target=self._loop, args=(domain, check), name=f"probe-{domain}", daemon=True)
            self._threads.append(t)
        self._threads.append(threading.Thread(target=self._canaries, name="probe-canary", daemon=True))
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Stop sampling and wait for the threads."""
        self._halt.set()
        for t in self._threads:
            if t.ident is not None:  # a start that failed part-way left some never started
                t.join(timeout=5)

    def snapshot(self) -> list[Sample]:
        """A copy of the samples so far."""
        with self._lock:
            return list(self.samples)

    def _record(self, domain: str, started: float, ok: bool, latency: float, period: float) -> None:
        """One sample; a failure that took longer than a period also fails the periods it hung."""
        with self._lock:
            self.samples.append(Sample(started, domain, ok, latency if ok else None))
            if not ok:
                self.samples.extend(
                    Sample(started + k * period, domain, False) for k in range(1, int(latency / period) + 1)
                )

    def _loop(self, domain: str, check: Callable[[httpx.Client], bool]) -> None:
        period = 1.0 / PROBE_HZ_BY_DOMAIN.get(domain, PROBE_HZ)
        with httpx.Client(timeout=2.0) as client:  # "serving" = answered within 2 s, as the load counts it
            while not self._halt.is_set():
                started = time.time()
                try:
                    ok = check(client)
                except httpx.HTTPError:
                    ok = False
                latency = time.time() - started
                self._record(domain, started, ok, latency, period)
                self._halt.wait(max(0.0, period - latency))

    def _canaries(self) -> None:
        url = f"{self.config.url('waste-api')}/tasks"
        photos = photo_pool(6, seed=4242, size_range=CANARY_PHOTO_BYTES)
        n = 0
        with httpx.Client(timeout=2.0) as client:
            while not self._halt.wait(CANARY_PERIOD_S):
                n += 1
                task_id = f"canary-{uuid.uuid4().hex}"
                submitted = time.time()
                form, image = {"task_id": task_id}, {"image": photos[n % len(photos)]}
                ok = ledgered_write(
                    self.ledger,
                    "upload",
                    task_id,
                    202,
                    functools.partial(client.post, url, headers=self.user.headers, data=form, files=image),
                )
                self._record("waste", submitted, ok, time.time() - submitted, CANARY_PERIOD_S)
                if ok:
                    with self._lock:
                        self.canaries[task_id] = submitted
                else:  # not accepted: the pipeline was not reachable either
                    self._record("pipeline", submitted, False, time.time() - submitted, CANARY_PERIOD_S)
