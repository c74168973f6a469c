"""Password hashes and failed-login throttling of auth-api, without containers."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher

from system.apis import passwords
from system.apis.login_throttle import PER_CLIENT, PER_USER, SWEEP_MIN, LoginThrottle


def test_a_new_hash_is_argon2id_at_owasps_minimum_and_verifies() -> None:
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # OWASP: 19 MiB, 2 passes, 1 lane
    assert passwords.verify("correct horse", stored)
    assert not passwords.verify("correct horsE", stored)
    assert not passwords.needs_rehash(stored)
    assert passwords.hash_password("correct horse") != stored  # salted


def test_older_pbkdf2_hashes_still_verify_and_ask_to_be_replaced() -> None:
    salt = b"s" * 16
    legacy = f"{salt.hex()}${hashlib.pbkdf2_hmac('sha256', b'pw-123456', salt, 1000).hex()}"
    assert passwords.verify("pw-123456", legacy)
    assert not passwords.verify("pw-1234567", legacy)
    assert passwords.needs_rehash(legacy)
    digest = hashlib.pbkdf2_hmac("sha256", b"pw-123456", salt, 600_000).hex()
    pbkdf2 = f"pbkdf2_sha256$600000${salt.hex()}${digest}"
    assert passwords.verify("pw-123456", pbkdf2) and passwords.needs_rehash(pbkdf2)
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw-123456")
    assert passwords.verify("pw-123456", weaker) and passwords.needs_rehash(weaker)


def test_an_unreadable_hash_never_matches() -> None:
    for stored in ("", "$", "zz$00", "md5$1$00$00", "pbkdf2_sha256$0$00$00", "pbkdf2_sha256$x$00$00", "$argon2id$x"):
        assert not passwords.verify("anything", stored), stored
        assert passwords.needs_rehash(stored)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_name_is_refused_after_its_failures_until_the_window_passes() -> None:
    clock = Clock()
    t = LoginThrottle(60.0, clock)
    for _ in range(PER_USER - 1):
        t.failed("alice", "10.0.0.1")
        clock.now += 1
    assert t.retry_after("alice", "10.0.0.1") == 0
    t.failed("alice", "10.0.0.1")  # the PER_USER-th failure, at 1004
    assert t.retry_after("alice", "10.0.0.2") == 60.0 - (PER_USER - 1)  # the name, from any address
    assert t.retry_after("bob", "10.0.0.1") == 0  # another name from the same address is not refused
    clock.now = 1000.0 + 60.0  # the first failure leaves the window
    assert t.retry_after("alice", "10.0.0.1") == 0


def test_a_success_clears_the_name_but_not_the_address() -> None:
    clock = Clock()
    t = LoginThrottle(60.0, clock)
    for i in range(PER_CLIENT):
        t.failed(f"user{i % 10}", "10.0.0.9")
    t.succeeded("user0")
    assert t.retry_after("fresh-name", "10.0.0.9") > 0  # too many guesses from that address
    assert t.retry_after("fresh-name", "10.0.0.8") == 0
    clock.now += 61
    assert t.retry_after("fresh-name", "10.0.0.9") == 0
    assert t.retry_after("user1", "10.0.0.9") == 0


def test_names_guessed_once_each_do_not_grow_the_table_forever() -> None:
    clock = Clock()
    t = LoginThrottle(60.0, clock)
    for i in range(5000):
        t.failed(f"name{i}", f"10.0.{i % 250}.1")
        clock.now += 1  # each failure leaves the window a minute later
    assert len(t._failures) < SWEEP_MIN * 2 + 250
