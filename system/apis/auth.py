"""auth-api: registers users in ecoeco_auth and issues signed tokens."""

from __future__ import annotations

import logging
import math

import psycopg2.errors
from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from system import settings as settings_mod
from system import tokens
from system.apis import passwords
from system.apis.common import create_app, serve
from system.apis.login_throttle import LoginThrottle
from system.apis.openapi_doc import errors
from system.db import Database

settings = settings_mod.get()
log = logging.getLogger(__name__)
db = Database(settings.pg_dsn["auth"], "ecoeco_auth")
app = create_app("auth-api", lambda: {"ecoeco_auth": db.ping()})
# Our timer, not the design's: scaled like the design's so a lockout lasts the same share of a run.
LOGIN_WINDOW_S = 300.0
throttle = LoginThrottle(settings.scaled(LOGIN_WINDOW_S))


class Credentials(BaseModel):
    """Registration and login body."""

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=6, max_length=128)


@app.post("/auth/register", status_code=201, responses=errors(409))
def register(body: Credentials) -> JSONResponse:
    """Create a user; 409 when the name is taken."""
    try:
        with db.transaction() as cur:
            cur.execute(
                "INSERT INTO users (username, password_hash) VALUES (%s, %s) RETURNING user_id",
                (body.username, passwords.hash_password(body.password)),
            )
            row = cur.fetchone()
    except psycopg2.errors.UniqueViolation as exc:
        raise HTTPException(409, f"username {body.username} already exists") from exc
    assert row is not None
    return JSONResponse(status_code=201, content={"user_id": row["user_id"], "username": body.username})


@app.post("/auth/login", responses=errors(401, 429))
def login(body: Credentials, request: Request) -> dict[str, object]:
    """A bearer token for valid credentials; 401 otherwise; 429 after repeated wrong passwords."""
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(body.username, client)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(429, f"too many failed logins; retry in {seconds} s", {"Retry-After": str(seconds)})
    with db.transaction() as cur:
        cur.execute("SELECT user_id, password_hash FROM users WHERE username=%s", (body.username,))
        row = cur.fetchone()
    stored = row["password_hash"] if row is not None else passwords.DUMMY_HASH
    if not passwords.verify(body.password, stored) or row is None:
        throttle.failed(body.username, client)
        raise HTTPException(401, "invalid username or password")
    throttle.succeeded(body.username)
    if passwords.needs_rehash(stored):
        _rehash(row["user_id"], body.password)
    token, expires = tokens.issue(settings.token_secret, row["user_id"], settings.token_ttl_s)
    return {"token": token, "expires_at": expires, "user_id": row["user_id"]}


def _rehash(user_id: int, password: str) -> None:
    """Replace a hash made with an older work factor; the login succeeds even if this write fails."""
    try:
        with db.transaction() as cur:
            cur.execute(
                "UPDATE users SET password_hash=%s WHERE user_id=%s", (passwords.hash_password(password), user_id)
            )
    except Exception:  # the old hash still verifies; the next login tries again
        log.warning("rehash of user %s failed", user_id, exc_info=True)


if __name__ == "__main__":
    serve(app)
