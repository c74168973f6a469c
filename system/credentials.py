"""Every secret of a deployment, generated once on the host and read from there by the harness,
the ops scripts and the compose environment: nothing the services trust is in the repository.

Host-side only (like system/topology.py): `.runtime/secrets/<name>`, owner-only, never written
through a planted symlink; an environment variable of the same secret wins (CI, a real deployment).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from system import topology

SECRETS_DIR = Path(__file__).resolve().parent.parent / ".runtime" / "secrets"
SECRET_FILE = SECRETS_DIR / "token_secret"
COOKIE_FILE = SECRETS_DIR / "erlang_cookie"
PG_SUPERUSER = "ecoeco"  # the servers' superuser and replication role: the harness's audits, the exporter
AMQP_ADMIN = "ecoeco"  # the broker's administrator: the harness's faults and observation, never a service
# the services that talk to RabbitMQ, each as its own user (no administrator tag)
AMQP_SERVICE_USERS = {"waste-api": "waste_api", "worker-storage": "worker_storage", "worker-ai": "worker_ai"}


def deployment_secret(path: Path, env_var: str, make: Callable[[], str]) -> str:
    """A secret of this deployment: $env_var, else the one generated into `path` the first time
    (owner-only, never through a planted symlink), so no two checkouts share one and none is in
    the repository."""
    given = os.environ.get(env_var)
    if given:
        return given
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(make())
    return path.read_text(encoding="ascii").strip()


def token_secret(path: Path = SECRET_FILE) -> str:
    """The key that signs bearer tokens ($ECOECO_TOKEN_SECRET or generated)."""
    return deployment_secret(path, "ECOECO_TOKEN_SECRET", lambda: secrets.token_urlsafe(32))


def erlang_cookie(path: Path = COOKIE_FILE) -> str:
    """The RabbitMQ nodes' shared Erlang cookie ($ECOECO_ERLANG_COOKIE or generated): whoever knows
    it can run any command on the broker, so it is no more published than the token secret."""
    return deployment_secret(path, "ECOECO_ERLANG_COOKIE", lambda: secrets.token_hex(24))


def pg_roles() -> tuple[str, ...]:
    """Every service's PostgreSQL login role (docker-compose.yml's PG_APP_ROLES)."""
    return tuple(r for roles in topology.load().app_roles.values() for r in roles)


def pg_password(role: str) -> str:
    """A service role's PostgreSQL password ($ECOECO_PG_PW_<ROLE> or generated)."""
    return deployment_secret(SECRETS_DIR / f"pg_{role}", f"ECOECO_PG_PW_{role.upper()}", lambda: secrets.token_hex(16))


def pg_superuser_password() -> str:
    """The PostgreSQL superuser's password ($ECOECO_PG_SUPERUSER_PASSWORD or generated)."""
    return deployment_secret(
        SECRETS_DIR / "pg_superuser", "ECOECO_PG_SUPERUSER_PASSWORD", lambda: secrets.token_hex(16)
    )


def amqp_password(user: str) -> str:
    """A RabbitMQ user's password ($ECOECO_AMQP_PW_<USER> or generated)."""
    return deployment_secret(
        SECRETS_DIR / f"amqp_{user}", f"ECOECO_AMQP_PW_{user.upper()}", lambda: secrets.token_hex(16)
    )


def amqp_users() -> tuple[str, ...]:
    """Every RabbitMQ user: the administrator, then one per service."""
    return (AMQP_ADMIN, *AMQP_SERVICE_USERS.values())
