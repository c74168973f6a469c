"""Locust users, one class per Ecoeco domain (imports locust: runs only inside Locust)."""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent
from locust import HttpUser, between, constant_throughput, task
from locust.clients import ResponseContextManager
from locust.env import Environment

from core.ledger import LedgerWriter, OpFunction
from load import config
from load.images import photo_pool, tiny_png
from load.outcome import Outcome, classify

logger = logging.getLogger("ecoeco.load")

URLS = config.base_urls()
TIMEOUT_S = config.request_timeout_s()
AUTH_ATTEMPTS = 3
AUTH_BACKOFF_S = 0.5  # times the attempt number
AUTH_RETRY_S = 5.0  # after a failed bootstrap, how long a user waits before trying auth again

_user_numbers = itertools.count(1)
_ledger: LedgerWriter | None = None


def ledger() -> LedgerWriter | None:
    """The process-wide ledger from ECOECO_LEDGER, opened on first use (None if unset)."""
    global _ledger
    if _ledger is None and os.environ.get(config.LEDGER_ENV):
        _ledger = LedgerWriter(os.environ[config.LEDGER_ENV])
    return _ledger


def close_ledger() -> None:
    """Close the ledger at shutdown."""
    global _ledger
    if _ledger is not None:
        _ledger.close()
        _ledger = None


def error_reason(response: ResponseContextManager) -> str | None:
    """The `error` field of a JSON error body, if any."""
    try:
        body = response.json()
    except Exception:  # any non-JSON body: no reason to report
        return None
    return str(body.get("error"))[:200] if isinstance(body, dict) and "error" in body else None


class AuthUnavailable(Exception):
    """auth-api could not give this user a token."""


class EcoUser(HttpUser):
    """Base: a unique ledger process id, short timeouts and ledger-recorded writes."""

    abstract = True
    wait_time = between(*config.wait_range_s())

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)  # type: ignore[no-untyped-call]
        self.process_id = f"u-{os.getpid()}-{next(_user_numbers)}"
        self.token: str | None = None

    def auth_headers(self) -> dict[str, str]:
        """Bearer header for the current token (empty without one)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def recorded_write(
        self,
        f: OpFunction,
        op_id: str,
        expected_status: int,
        send: Callable[[], ResponseContextManager],
    ) -> Outcome:
        """Log invoke, send (with catch_response=True), then log ok / fail / info."""
        # Locust kills a "waiting" user asynchronously, and the kill can land after the user woke up
        # and sent its next request. Yielding once lets a pending kill land before the invoke.
        gevent.sleep(0)
        book = ledger()
        if book is not None:
            book.record("invoke", f, op_id, process=self.process_id)
        outcome: Outcome | None = None
        try:
            with send() as response:
                outcome = classify(expected_status, response.status_code, response.error, error_reason(response))
                if outcome.type == "ok":
                    response.success()
                else:
                    response.failure(f"{outcome.type}: {outcome.error}")
                if response.status_code == 401:
                    self.token = None
        except BaseException as exc:
            # Killed or failed mid-request: the server may have the write, so it is unknown.
            outcome = outcome or Outcome("info", f"interrupted: {type(exc).__name__} {exc}".strip())
            raise
        finally:
            if book is not None and outcome is not None:
                book.record(outcome.type, f, op_id, outcome.error, process=self.process_id)
        return outcome

    def read(self, method: str, url: str, name: str, expected: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """Send a read; failure unless the status is expected; returns the JSON body or None."""
        with self.client.request(
            method,
            url,
            name=name,
            catch_response=True,
            timeout=TIMEOUT_S,
            headers=self.auth_headers(),
            **kwargs,
        ) as response:
            if response.status_code in expected:
                response.success()
            else:
                reason = error_reason(response)
                response.failure(f"HTTP {response.status_code}" + (f": {reason}" if reason else ""))
                if response.status_code == 401:
                    self.token = None  # expired or rotated: log in again before the next task
                return None
            try:
                return response.json()
            except ValueError:
                return None


class AuthenticatedUser(EcoUser):
    """A user that registers and logs in at start, and again whenever its token stops working."""

    abstract = True

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.credentials: tuple[str, str] | None = None
        self.auth_down = False  # marked while auth-api cannot give this user a token
        self._auth_retry_at = 0.0

    def on_start(self) -> None:
        self.ensure_token()

    def ensure_token(self) -> bool:
        """True if the user holds a token; tries auth at most every AUTH_RETRY_S while it fails."""
        if self.token:
            return True
        if time.monotonic() < self._auth_retry_at:
            return False
        started = time.time()
        last_error: Exception | None = None
        for attempt in range(1, AUTH_ATTEMPTS + 1):
            try:
                self.token = self._log_in()
                if self.auth_down:
                    logger.info("%s: auth-api is back, token obtained", self.process_id)
                self.auth_down = False
                return True
            except AuthUnavailable as exc:
                last_error = exc
                if attempt < AUTH_ATTEMPTS:
                    gevent.sleep(AUTH_BACKOFF_S * attempt)
        self._auth_retry_at = time.monotonic() + AUTH_RETRY_S
        error = AuthUnavailable(f"auth-api at {URLS['auth']} gave no token after {AUTH_ATTEMPTS} tries: {last_error}")
        if not self.auth_down:
            logger.warning("%s: %s", self.process_id, error)
        self.auth_down = True
        # Shows up in Locust's stats and the timeline as its own failing request name.
        self.environment.events.request.fire(
            request_type="AUTH",
            name="auth bootstrap",
            response_time=(time.time() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
            response=None,
            url=URLS["auth"],
            start_time=started,
        )
        return False

    def _log_in(self) -> str:
        """Register if needed, then log in; raises AuthUnavailable with the reason."""
        if self.credentials is None:
            self.credentials = self.register_account()
        username, password = self.credentials
        with self.client.post(
            f"{URLS['auth']}/auth/login",
            json={"username": username, "password": password},
            name="POST /auth/login",
            catch_response=True,
            timeout=TIMEOUT_S,
        ) as response:
            token = None
            if response.status_code == 200:
                try:
                    token = response.json().get("token")
                except ValueError:
                    token = None
            if token:
                response.success()
                return str(token)
            detail = error_reason(response) or response.error or ""
            reason = f"login HTTP {response.status_code} {detail}".strip()
            response.failure(reason)
            if response.status_code == 401:
                # The account is gone (e.g. lost by auth-api): register a new one.
                self.credentials = None
            raise AuthUnavailable(reason)

    def register_account(self) -> tuple[str, str]:
        """Register a fresh unique account (a ledger write); raises AuthUnavailable unless ok."""
        username = f"load-{uuid.uuid4().hex[:16]}"
        password = uuid.uuid4().hex
        outcome = self.recorded_write(
            "register",
            username,
            201,
            lambda: self.client.post(
                f"{URLS['auth']}/auth/register",
                json={"username": username, "password": password},
                name="POST /auth/register",
                catch_response=True,
                timeout=TIMEOUT_S,
            ),
        )
        if outcome.type != "ok":
            # A fresh name next time keeps every register op's outcome about one attempt only.
            raise AuthUnavailable(f"register {outcome.type}: {outcome.error}")
        return username, password


UPLOAD_PLAN = config.upload_plan()
PHOTO_POOL_SIZE = 24


class WasteUser(AuthenticatedUser):
    """Uploads waste photos and polls their classification status (the heaviest traffic).

    With an upload plan (config.upload_plan: the chaos suite's workload) a fixed number of these
    users upload photo-sized images at a steady total rate, each followed by a status poll;
    without one they upload tiny images at their think time."""

    host = URLS["waste"]
    weight = 6
    if UPLOAD_PLAN is not None:
        fixed_count = UPLOAD_PLAN[1]
        wait_time = constant_throughput(UPLOAD_PLAN[0] / UPLOAD_PLAN[1])

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.accepted: deque[str] = deque(maxlen=20)

    @task(2)
    def upload(self) -> None:
        if not self.ensure_token():
            return
        task_id = str(uuid.uuid4())
        if UPLOAD_PLAN is not None:
            image = random.choice(photos())
        else:
            image = ("waste.png", tiny_png(tuple(random.randrange(256) for _ in range(3))), "image/png")  # type: ignore[arg-type]
        outcome = self.recorded_write(
            "upload",
            task_id,
            202,
            lambda: self.client.post(
                "/tasks",
                data={"task_id": task_id},
                files={"image": image},
                headers=self.auth_headers(),
                name="POST /tasks",
                catch_response=True,
                timeout=TIMEOUT_S,
            ),
        )
        if outcome.type == "ok":
            self.accepted.append(task_id)
        if UPLOAD_PLAN is not None and self.accepted:
            self.read("GET", f"/tasks/{random.choice(self.accepted)}", "GET /tasks/{task_id}")

    @task(4)
    def poll_status(self) -> None:
        if UPLOAD_PLAN is not None or not self.accepted:  # planned: every iteration is an upload
            self.upload()
            return
        if self.ensure_token():
            self.read("GET", f"/tasks/{random.choice(self.accepted)}", "GET /tasks/{task_id}")


@functools.cache
def photos() -> list[tuple[str, bytes, str]]:
    """This process's photos (made once; a different set per process)."""
    return photo_pool(PHOTO_POOL_SIZE, seed=os.getpid())


class LocationUser(EcoUser):
    """Looks up recycling sites near a point in Seoul."""

    host = URLS["location"]
    weight = 3

    @task
    def nearby_sites(self) -> None:
        params = {
            "lat": round(37.55 + random.uniform(-0.1, 0.1), 5),
            "lon": round(126.98 + random.uniform(-0.1, 0.1), 5),
        }
        self.read("GET", "/sites", "GET /sites", params={**params, "limit": 5})


class RecycleUser(EcoUser):
    """Reads recycling categories, one category, and statistics from the replica."""

    host = URLS["recycle"]
    weight = 2

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.category_names: list[str] = []

    @task(3)
    def categories(self) -> None:
        body = self.read("GET", "/categories", "GET /categories")
        items = body.get("categories", []) if isinstance(body, dict) else body
        if isinstance(items, list):
            names = [i.get("name") if isinstance(i, dict) else i for i in items]
            self.category_names = [str(n) for n in names if n]

    @task(2)
    def category(self) -> None:
        # Only names the API listed, so a 404 means something real.
        if self.category_names:
            self.read("GET", f"/categories/{random.choice(self.category_names)}", "GET /categories/{name}")

    @task(1)
    def stats(self) -> None:
        self.read("GET", "/stats", "GET /stats")


class ChatUser(AuthenticatedUser):
    """Sends chat messages in one conversation and reads it back."""

    host = URLS["chat"]
    weight = 2
    texts = ("How do I recycle a pizza box?", "Is styrofoam recyclable?", "Where do batteries go?")

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.conversation_id = str(uuid.uuid4())
        self.sent_ok = False

    @task(3)
    def send_message(self) -> None:
        if not self.ensure_token():
            return
        message_id = str(uuid.uuid4())
        body = {
            "message_id": message_id,
            "conversation_id": self.conversation_id,
            "text": random.choice(self.texts),
        }
        outcome = self.recorded_write(
            "chat",
            message_id,
            201,
            lambda: self.client.post(
                "/chat/messages",
                json=body,
                headers=self.auth_headers(),
                name="POST /chat/messages",
                catch_response=True,
                timeout=TIMEOUT_S,
            ),
        )
        self.sent_ok = self.sent_ok or outcome.type == "ok"

    @task(1)
    def read_conversation(self) -> None:
        if self.sent_ok and self.ensure_token():
            self.read("GET", f"/chat/conversations/{self.conversation_id}", "GET /chat/conversations/{id}")


class UserinfoUser(AuthenticatedUser):
    """Reads its profile and updates it as often: the updates are audited (last write wins), and
    an audit needs acknowledged writes before and after the fault, also in a 30 s scenario."""

    host = URLS["userinfo"]
    weight = 1

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.updates = 0

    @task(3)
    def profile(self) -> None:
        if self.ensure_token():
            self.read("GET", "/users/me", "GET /users/me")

    @task(3)
    def update_profile(self) -> None:
        if not self.ensure_token() or self.credentials is None:
            return
        # the value written is the op's own id, so the audit can tell which write it reads back
        self.updates += 1
        op_id = f"{self.credentials[0]}~{self.updates}"
        body = {"display_name": op_id, "city": random.choice(("Seoul", "Busan", "Incheon"))}
        self.recorded_write(
            "profile",
            op_id,
            200,
            lambda: self.client.put(
                "/users/me",
                json=body,
                headers=self.auth_headers(),
                name="PUT /users/me",
                catch_response=True,
                timeout=TIMEOUT_S,
            ),
        )


class AuthUser(AuthenticatedUser):
    """Logs in again and again; registers a new account rarely."""

    host = URLS["auth"]
    weight = 1

    @task(5)
    def login(self) -> None:
        self.token = None  # a fresh login is the point of this task
        self.ensure_token()

    @task(1)
    def register(self) -> None:
        # A failure is already in the ledger and in Locust's stats.
        with contextlib.suppress(AuthUnavailable):
            self.register_account()
