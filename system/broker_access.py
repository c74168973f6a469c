"""Who may use the broker: the definitions every RabbitMQ node imports at boot.

One administrator (the harness's faults and observation) and one user per service that talks to
RabbitMQ, those without the administrator tag (no user, policy or permission management). Every
user has full rights on the vhost "/", where only this system's queues live: a service is told
apart, not confined to its own queues (that would need per-queue regexes the topology does not
name yet). Passwords come from system/credentials.py; the nodes receive only their salted SHA-256
hashes (RabbitMQ's internal backend: base64(salt + sha256(salt + password)),
rabbit_password_hashing_sha256). The salt is derived from the password, so the same secrets give
the same definitions and compose does not recreate the nodes for nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping

from system.credentials import AMQP_ADMIN

VHOST = "/"
ALL = ".*"


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256 of `password`, with a salt derived from it."""
    salt = hashlib.sha256(b"ecoeco-amqp-salt:" + password.encode()).digest()[:4]
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode("ascii")


def definitions(passwords: Mapping[str, str]) -> str:
    """The definitions JSON for users -> password (the administrator among them)."""
    if AMQP_ADMIN not in passwords:
        raise ValueError(f"the broker's definitions need its administrator {AMQP_ADMIN!r}")
    users = [
        {
            "name": user,
            "password_hash": password_hash(pw),
            "hashing_algorithm": "rabbit_password_hashing_sha256",
            "tags": "administrator" if user == AMQP_ADMIN else "",  # comma-separated: every 3.x reads it
        }
        for user, pw in sorted(passwords.items())
    ]
    permissions = [
        {"user": user, "vhost": VHOST, "configure": ALL, "write": ALL, "read": ALL} for user in sorted(passwords)
    ]
    return json.dumps({"users": users, "vhosts": [{"name": VHOST}], "permissions": permissions}, separators=(",", ":"))
