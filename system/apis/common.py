"""What every API shares: JSON errors, request metrics, /health, /metrics, the uvicorn entry."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping

import psycopg2
import uvicorn
from fastapi import FastAPI, Header, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from system import metrics, tokens
from system import settings as settings_mod
from system.apis import openapi_doc
from system.broker import BrokerUnavailable
from system.db import CommitOutcomeUnknown, Database, DatabaseUnavailable
from system.logs import SERVING, quiet_per_request_loggers

HealthCheck = Callable[[], dict[str, bool]]
# A pattern for free-text fields: PostgreSQL text cannot hold NUL, and psycopg2 refuses it with a
# ValueError (a 500) rather than a database error; refuse it at the edge as bad input.
NO_NUL = r"^[^\x00]*$"


def error(status: int, reason: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one error shape of every API."""
    return JSONResponse(status_code=status, content={"error": reason}, headers=headers)


class RequestMetrics:
    """Counts and times every request. A plain ASGI middleware: Starlette's BaseHTTPMiddleware
    (@app.middleware) adds a task and two memory streams to each request, measurable CPU at
    tens of uploads per second on two cores."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app starts an answer

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")  # FastAPI sets the matched route
            metrics.HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status)).inc()
            metrics.HTTP_LATENCY.labels(self.service, path).observe(time.perf_counter() - started)


JSON_BODY_LIMIT = 64 * 1024  # every JSON body of the design fits in a few KiB
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the task_id field around an image


class BodyGuard:
    """Refuse a request before its body is read: a bearer token that does not verify (routes that
    need one) and a body over `limit` bytes, by Content-Length or, without one, while it streams.
    FastAPI would spool the whole multipart body, then parse it, before any dependency ran."""

    def __init__(self, app: ASGIApp, limit: int, authenticated: tuple[tuple[str, str], ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.authenticated = authenticated  # (method, path) pairs whose body is read only for a valid token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if (scope["method"], scope["path"]) in self.authenticated:
            try:
                tokens.from_header(settings_mod.get().token_secret, headers.get("authorization"))
            except tokens.InvalidToken as exc:
                await error(401, str(exc))(scope, receive, send)
                return
        length = headers.get("content-length", "")
        if length and (not length.isascii() or not length.isdigit()):
            await error(400, "malformed Content-Length")(scope, receive, send)
            return
        if length and int(length) > self.limit:
            await error(413, f"request body larger than {self.limit} bytes")(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # FastAPI re-raises an HTTPException met while reading the body
                raise StarletteHTTPException(413, f"request body larger than {self.limit} bytes")
            return message

        started = False

        async def noting(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, noting)
        except StarletteHTTPException as exc:  # read outside a route's handlers: answer here
            if started:
                raise
            await error(exc.status_code, str(exc.detail))(scope, receive, send)


def create_app(
    service: str,
    health: HealthCheck,
    body_limit: int = JSON_BODY_LIMIT,
    authenticated: tuple[tuple[str, str], ...] = (),
) -> FastAPI:
    """A FastAPI app with the shared error handlers, metrics and health endpoint."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        logging.getLogger(service).info(SERVING)
        yield

    app = FastAPI(title=service, lifespan=lifespan)

    # Starlette's class: its own 404 (no route), 405 and 400 (malformed multipart) are raised as it,
    # and FastAPI's HTTPException is a subclass, so one handler gives every error the one shape.
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = exc.headers
        if exc.status_code == 405:  # Starlette's Allow names the first route of the path, not all of them
            headers = {"Allow": ", ".join(_allowed_methods(app, request.scope))}
        return error(exc.status_code, str(exc.detail), headers)  # Allow, Retry-After

    @app.exception_handler(psycopg2.DataError)
    async def _data(_: Request, exc: psycopg2.DataError) -> JSONResponse:
        return error(422, f"invalid value: {str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}")

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        # a bug, not bad input: still the one shape (Starlette logs the traceback)
        return error(500, f"internal error: {exc.__class__.__name__}")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error(422, f"invalid request: {where}: {first.get('msg', 'bad input')}")

    @app.exception_handler(CommitOutcomeUnknown)
    async def _unknown(_: Request, exc: CommitOutcomeUnknown) -> JSONResponse:
        # Not 503 ("refused, nothing done"): the write may have been committed. 504: the database
        # did not answer the commit; a retry with the same id is safe (every write is idempotent).
        return error(504, f"outcome unknown, retry with the same id: {exc}")

    @app.exception_handler(DatabaseUnavailable)
    async def _db(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return error(503, f"database unavailable: {exc}")

    @app.exception_handler(BrokerUnavailable)
    async def _broker(_: Request, exc: BrokerUnavailable) -> JSONResponse:
        return error(503, f"message broker unavailable: {exc}")

    @app.exception_handler(tokens.InvalidToken)
    async def _token(_: Request, exc: tokens.InvalidToken) -> JSONResponse:
        return error(401, str(exc))

    app.add_middleware(BodyGuard, limit=body_limit, authenticated=authenticated)
    app.add_middleware(RequestMetrics, service=service)  # added last: outermost, so it counts refusals too

    @app.get("/health", responses={503: {"description": "A dependency is down", "model": HealthBody}})
    def _health() -> JSONResponse:
        checks = health()
        ok = all(checks.values())
        return JSONResponse(
            status_code=200 if ok else 503,
            content={"service": service, "status": "ok" if ok else "unhealthy", "checks": checks},
        )

    @app.get("/metrics", response_class=PlainTextResponse)  # documents text/plain, the exposition format
    def _metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    openapi_doc.document(app, lambda route: _needs_token(route.dependant))
    return app


def _allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of this path accepts (GET /users/me and PUT /users/me are two routes)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**scope, "method": "__none__"})
        if match is Match.PARTIAL:  # the path matches, the method does not
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


class HealthBody(BaseModel):
    """The body of /health, healthy or not."""

    service: str
    status: str
    checks: dict[str, bool]


def _needs_token(dependant: Dependant) -> bool:
    return any(d.call is current_user or _needs_token(d) for d in dependant.dependencies)


_auth_db: Database | None = None


def current_user(authorization: str | None = Header(default=None)) -> int:
    """FastAPI dependency: the user id of a valid bearer token, else 401.

    With the `auth_via_db` defect the user is also looked up in ecoeco_auth, as spec section 2
    has it: waste and chat then fail whenever the auth database does (a planted isolation bug).
    """
    global _auth_db
    settings = settings_mod.get()
    user_id = tokens.from_header(settings.token_secret, authorization)
    if settings.is_unsafe("auth_via_db"):
        _auth_db = _auth_db or Database(settings.pg_dsn["auth"], "ecoeco_auth", max_connections=4)
        with _auth_db.transaction() as cur:
            cur.execute("SELECT 1 FROM users WHERE user_id=%s", (user_id,))
            if cur.fetchone() is None:
                raise tokens.InvalidToken("unknown user")
    return user_id


def serve(app: FastAPI, port: int = 8000) -> None:
    """Run the app under uvicorn, quietly; refuse to start with a token secret anyone may know."""
    problem = settings_mod.token_secret_problem(settings_mod.get().token_secret)
    if problem:
        raise SystemExit(
            f"refusing to start: {problem} (generate one: python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    logging.basicConfig(level=logging.INFO)
    quiet_per_request_loggers()
    uvicorn.run(app, host="0.0.0.0", port=port, log_level="warning", access_log=False)
