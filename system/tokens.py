"""Signed, expiring bearer tokens (HMAC-SHA256), verifiable without a database round trip.

Verification is stateless on purpose: waste-api and chat-llm-api keep serving holders of
valid tokens while ecoeco_auth is down (the design's domain isolation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


class InvalidToken(Exception):
    """Missing, malformed, forged or expired token."""


def _sign(secret: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(secret: str, user_id: int, ttl_s: float, now: float | None = None) -> tuple[str, float]:
    """A token for `user_id` and its expiry (unix seconds)."""
    expires = (now if now is not None else time.time()) + ttl_s
    payload = f"{user_id}.{int(expires)}"
    return f"{payload}.{_sign(secret, payload)}", float(int(expires))


def verify(secret: str, token: str, now: float | None = None) -> int:
    """The user id of a valid token, else InvalidToken with the reason."""
    parts = token.split(".")
    # ASCII digits only: str.isdigit() also accepts "²" and other scripts' digits, which int() refuses
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]) or not parts[2].isascii():
        raise InvalidToken("malformed token")
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(secret, payload).encode(), parts[2].encode()):
        raise InvalidToken("bad token signature")
    if int(parts[1]) < (now if now is not None else time.time()):
        raise InvalidToken("token expired")
    return int(parts[0])


def from_header(secret: str, authorization: str | None) -> int:
    """The user id from an `Authorization: Bearer ...` header."""
    if not authorization or not authorization.startswith("Bearer "):
        raise InvalidToken("missing bearer token")
    return verify(secret, authorization.removeprefix("Bearer ").strip())
