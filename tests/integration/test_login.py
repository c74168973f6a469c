"""Passwords in the real auth-api: stored as Argon2id at OWASP's minimum, and repeated wrong passwords
throttled with a 429 in the one error shape (issue: secrets and privileges)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from harness.stack import Stack

pytestmark = pytest.mark.integration


def _register(c: httpx.Client, base: str) -> tuple[str, str]:
    name, password = f"thr-{uuid.uuid4().hex[:10]}", "right-password"
    assert c.post(f"{base}/auth/register", json={"username": name, "password": password}).status_code == 201
    return name, password


def test_the_stored_hash_is_argon2id(stack: Stack) -> None:
    base = stack.config.url("auth-api")
    with httpx.Client(timeout=10) as c:
        name, _ = _register(c, base)
    query = f"SELECT password_hash FROM users WHERE username='{name}'"
    out = stack.container("pg-auth").exec_run(["psql", "-U", "ecoeco", "-d", "ecoeco_auth", "-Atc", query])
    assert out.output.decode().strip().startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_repeated_wrong_passwords_are_refused_with_429_then_let_through(stack: Stack) -> None:
    base = stack.config.url("auth-api")
    with httpx.Client(timeout=10) as c:
        name, password = _register(c, base)
        other, other_password = _register(c, base)
        for _ in range(5):
            r = c.post(f"{base}/auth/login", json={"username": name, "password": "wrong-password"})
            assert r.status_code == 401, r.text
        # now even the right password is refused for a while, with a clear reason and when to come back
        r = c.post(f"{base}/auth/login", json={"username": name, "password": password})
        assert r.status_code == 429, r.text
        assert set(r.json()) == {"error"} and "too many failed logins" in r.json()["error"]
        wait = int(r.headers["Retry-After"])
        assert 1 <= wait <= 300 * stack.config.time_scale + 1
        # another account from the same address is not locked out by someone else's guesses
        assert c.post(f"{base}/auth/login", json={"username": other, "password": other_password}).status_code == 200
        time.sleep(wait)
        r = c.post(f"{base}/auth/login", json={"username": name, "password": password})
        assert r.status_code == 200, r.text
