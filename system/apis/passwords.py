"""Password hashes of auth-api: PBKDF2-SHA256 at a current work factor, self-describing.

A stored hash names its algorithm and iteration count (`pbkdf2_sha256$600000$salt$hash`), so the
work factor can rise without locking anyone out: an older hash still verifies and is replaced at
the next successful login. The bare `salt$hash` form is what this service wrote before, at 1,000
iterations.
"""

from __future__ import annotations

import hashlib
import hmac
import os

ALGORITHM = "pbkdf2_sha256"
# OWASP's current minimum for PBKDF2-HMAC-SHA256; about 0.18 s of one core here.
ITERATIONS = 600_000
LEGACY_ITERATIONS = 1000  # the bare salt$hash form


def _digest(password: str, salt: bytes, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations).hex()


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """A new stored hash of `password`."""
    salt = salt or os.urandom(16)
    return f"{ALGORITHM}${iterations}${salt.hex()}${_digest(password, salt, iterations)}"


def _parse(stored: str) -> tuple[int, bytes, str] | None:
    parts = stored.split("$")
    try:
        if len(parts) == 2:
            return LEGACY_ITERATIONS, bytes.fromhex(parts[0]), parts[1]
        if len(parts) == 4 and parts[0] == ALGORITHM and int(parts[1]) > 0:
            return int(parts[1]), bytes.fromhex(parts[2]), parts[3]
    except ValueError:
        return None
    return None


def verify(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; a hash this module cannot read never matches."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    iterations, salt, digest = parsed
    return hmac.compare_digest(_digest(password, salt, iterations), digest)


def needs_rehash(stored: str) -> bool:
    """True when `stored` was made with a weaker work factor than today's."""
    parsed = _parse(stored)
    return parsed is None or parsed[0] < ITERATIONS


# Verified against when the user does not exist, so an unknown name costs the same time as a wrong password.
DUMMY_HASH = hash_password("not-a-password", salt=b"\0" * 16)
