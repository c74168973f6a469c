"""Password hashes of auth-api: Argon2id at OWASP's current minimum, self-describing.

Argon2id (argon2-cffi, the kept binding of the reference implementation) with 19 MiB, two passes,
one lane: memory-hard, and about 45 ms of a core here, a quarter of what PBKDF2-SHA256 at OWASP's
600,000 iterations costs (0.18 s), which on two cores shared by the whole stack made logins miss
their 2 s during broker and database recovery. A stored hash names its parameters
(`$argon2id$v=19$m=19456,t=2,p=1$...`), so they can rise without locking anyone out: an older hash
still verifies and is replaced at the next successful login. Older forms this service wrote:
`pbkdf2_sha256$<iterations>$<salt>$<hash>`, and the bare `<salt>$<hash>` at 1,000 iterations.
"""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)  # OWASP: m=19 MiB, t=2, p=1
LEGACY_ITERATIONS = 1000  # the bare salt$hash form


def hash_password(password: str) -> str:
    """A new stored hash of `password`."""
    return HASHER.hash(password)


def _pbkdf2(stored: str) -> tuple[int, bytes, str] | None:
    """(iterations, salt, hex digest) of an older PBKDF2 hash, or None when `stored` is not one."""
    parts = stored.split("$")
    try:
        if len(parts) == 2:
            return LEGACY_ITERATIONS, bytes.fromhex(parts[0]), parts[1]
        if len(parts) == 4 and parts[0] == "pbkdf2_sha256" and int(parts[1]) > 0:
            return int(parts[1]), bytes.fromhex(parts[2]), parts[3]
    except ValueError:
        return None
    return None


def verify(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; a hash this module cannot read never matches."""
    if stored.startswith("$argon2"):
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    old = _pbkdf2(stored)
    if old is None:
        return False
    iterations, salt, digest = old
    return hmac.compare_digest(hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations).hex(), digest)


def needs_rehash(stored: str) -> bool:
    """True when `stored` is not Argon2id with today's parameters."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


# Verified against when the user does not exist, so an unknown name costs the same time as a wrong password.
DUMMY_HASH = hash_password("not-a-password")
