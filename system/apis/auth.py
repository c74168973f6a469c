"""auth-api: registers users in ecoeco_auth and issues signed tokens."""

from __future__ import annotations

import hashlib
import hmac
import os

import psycopg2.errors
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from system import settings as settings_mod
from system import tokens
from system.apis.common import create_app, serve
from system.db import Database

settings = settings_mod.get()
db = Database(settings.pg_dsn["auth"], "ecoeco_auth")
app = create_app("auth-api", lambda: {"ecoeco_auth": db.ping()})
ITERATIONS = 1000  # kept low: this is a test system on two cores, not a password vault


class Credentials(BaseModel):
    """Registration and login body."""

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=6, max_length=128)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """salt$hash, PBKDF2-SHA256."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"{salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Constant-time comparison against a stored salt$hash."""
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


@app.post("/auth/register", status_code=201)
def register(body: Credentials) -> JSONResponse:
    """Create a user; 409 when the name is taken."""
    try:
        with db.transaction() as cur:
            cur.execute(
                "INSERT INTO users (username, password_hash) VALUES (%s, %s) RETURNING user_id",
                (body.username, hash_password(body.password)),
            )
            row = cur.fetchone()
    except psycopg2.errors.UniqueViolation as exc:
        raise HTTPException(409, f"username {body.username} already exists") from exc
    assert row is not None
    return JSONResponse(status_code=201, content={"user_id": row["user_id"], "username": body.username})


@app.post("/auth/login")
def login(body: Credentials) -> dict[str, object]:
    """A bearer token for valid credentials; 401 otherwise."""
    with db.transaction() as cur:
        cur.execute("SELECT user_id, password_hash FROM users WHERE username=%s", (body.username,))
        row = cur.fetchone()
    if row is None or not check_password(body.password, row["password_hash"]):
        raise HTTPException(401, "invalid username or password")
    token, expires = tokens.issue(settings.token_secret, row["user_id"], settings.token_ttl_s)
    return {"token": token, "expires_at": expires, "user_id": row["user_id"]}


if __name__ == "__main__":
    serve(app)
