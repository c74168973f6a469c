"""The token secret and the Erlang cookie: generated per deployment, never a value from the repository
(issue 10 §3)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import docker
import pytest

from faults.target import OUR_LABEL
from harness.config import HarnessConfig
from system.credentials import erlang_cookie, pg_roles, token_secret
from system.settings import KNOWN_TOKEN_SECRETS, token_secret_problem
from tests.faults.conftest import PROJECT, require_image


def test_a_secret_is_generated_once_owner_only_and_an_explicit_one_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECOECO_TOKEN_SECRET", raising=False)
    path = tmp_path / "secrets" / "token_secret"
    first = token_secret(path)
    assert token_secret_problem(first) is None and token_secret(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert token_secret(tmp_path / "other" / "token_secret") != first  # no two deployments share one
    monkeypatch.setenv("ECOECO_TOKEN_SECRET", "x" * 40)
    assert token_secret(path) == "x" * 40 and HarnessConfig().compose_env()["ECOECO_TOKEN_SECRET"] == "x" * 40


def test_a_planted_symlink_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOECO_TOKEN_SECRET", raising=False)
    target = tmp_path / "elsewhere"
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token_secret").symlink_to(target)
    with pytest.raises(OSError):
        token_secret(tmp_path / "secrets" / "token_secret")
    assert not target.exists()


@pytest.mark.parametrize("secret", [*sorted(KNOWN_TOKEN_SECRETS - {""}), "", "short-but-not-default"])
def test_known_or_short_secrets_are_refused(secret: str) -> None:
    assert token_secret_problem(secret)


def refused_start(
    client: docker.DockerClient, image: str, env: dict[str, str], command: list[str] | None = None
) -> str:
    """Run `image` offline with `env`; it must exit with a non-zero status: its logs."""
    container = client.containers.run(
        require_image(client, image),
        command,
        environment=env,
        labels={OUR_LABEL: PROJECT},
        detach=True,
        network_mode="none",
    )
    try:
        assert container.wait(timeout=60)["StatusCode"] != 0, container.logs().decode()[-500:]
        return str(container.logs().decode())
    finally:
        container.remove(force=True, v=True)


@pytest.mark.integration
def test_an_api_refuses_to_start_with_the_old_default(docker_client: docker.DockerClient) -> None:
    logs = refused_start(
        docker_client,
        "ecoeco-app",
        {"ECOECO_TOKEN_SECRET": "ecoeco-dev-token-secret"},
        ["python3", "-m", "system.apis.location"],
    )
    assert "refusing to start" in logs and "published in this repository" in logs


def test_the_erlang_cookie_is_generated_per_deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOECO_ERLANG_COOKIE", raising=False)
    path = tmp_path / "secrets" / "erlang_cookie"
    first = erlang_cookie(path)
    assert len(first) >= 20 and first.isalnum() and erlang_cookie(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert erlang_cookie(tmp_path / "other" / "erlang_cookie") != first
    monkeypatch.setenv("ECOECO_ERLANG_COOKIE", "c" * 30)
    assert HarnessConfig().compose_env()["ECOECO_ERLANG_COOKIE"] == "c" * 30


@pytest.mark.integration
@pytest.mark.parametrize("cookie", ["", "ecoeco-rabbitmq-cluster-cookie", "short"])
def test_a_broker_refuses_a_missing_or_published_cookie(docker_client: docker.DockerClient, cookie: str) -> None:
    logs = refused_start(docker_client, "ecoeco-rabbitmq", {"RABBITMQ_COOKIE": cookie})
    assert "refusing to start: RABBITMQ_COOKIE" in logs, logs[-500:]


def test_each_service_role_has_its_own_password_and_a_defect_records_none(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in pg_roles():
        monkeypatch.setenv(f"ECOECO_PG_PW_{role.upper()}", f"pw-of-{role}-0123456789")
    env = HarnessConfig().compose_env()
    assert env["ECOECO_PG_PW_WASTE_API"] == "pw-of-waste_api-0123456789"
    assert len({env[f"ECOECO_PG_PW_{r.upper()}"] for r in pg_roles()}) == len(pg_roles())
    assert HarnessConfig().resolve("{dsn:auth_api}") == (
        "postgresql://auth_api:pw-of-auth_api-0123456789@pg-auth:5432/ecoeco_auth"
    )
    assert HarnessConfig().resolve("plain") == "plain"
    from scenarios.defects import defect

    assert "pw-of" not in str(defect("auth_via_db").env)  # the record keeps the placeholder


def test_broker_users_get_hashes_rabbitmq_accepts_and_only_the_admin_is_one() -> None:
    import base64
    import hashlib
    import json

    from system.broker_access import definitions, password_hash
    from system.credentials import AMQP_ADMIN

    # RabbitMQ's own export of guest/guest: base64(salt + sha256(salt + password))
    known = base64.b64decode("22tTWcr5Ug2CgSXTZiPUwxXbv3IafPqiqP6nguRZnl0ItzOV")
    assert hashlib.sha256(known[:4] + b"guest").digest() == known[4:]
    mine = base64.b64decode(password_hash("s3cret-pw"))
    assert len(mine) == 36 and hashlib.sha256(mine[:4] + b"s3cret-pw").digest() == mine[4:]
    assert password_hash("s3cret-pw") == password_hash("s3cret-pw")  # stable: compose recreates nothing
    doc = json.loads(definitions({AMQP_ADMIN: "a" * 32, "waste_api": "b" * 32}))
    tags = {u["name"]: u["tags"] for u in doc["users"]}
    assert tags == {AMQP_ADMIN: "administrator", "waste_api": ""}
    assert "a" * 32 not in json.dumps(doc)  # hashes only
    with pytest.raises(ValueError, match="administrator"):
        definitions({"waste_api": "b" * 32})


def test_every_broker_user_and_the_pg_superuser_have_their_own_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from system import credentials

    monkeypatch.setattr(credentials, "SECRETS_DIR", tmp_path / "secrets")  # generated here, not in .runtime
    for user in credentials.amqp_users():
        monkeypatch.delenv(f"ECOECO_AMQP_PW_{user.upper()}", raising=False)
    monkeypatch.delenv("ECOECO_PG_SUPERUSER_PASSWORD", raising=False)
    env = HarnessConfig().compose_env()
    passwords = [env[f"ECOECO_AMQP_PW_{u.upper()}"] for u in credentials.amqp_users()]
    passwords.append(env["ECOECO_PG_SUPERUSER_PASSWORD"])
    assert len(set(passwords)) == len(passwords) and all(len(p) == 32 for p in passwords)
    written = {f.name for f in (tmp_path / "secrets").iterdir()}
    assert {*(f"amqp_{u}" for u in credentials.amqp_users()), "pg_superuser"} <= written
    monkeypatch.setenv("ECOECO_PG_SUPERUSER_PASSWORD", "given-0123456789")
    assert HarnessConfig().compose_env()["ECOECO_PG_SUPERUSER_PASSWORD"] == "given-0123456789"


@pytest.mark.integration
@pytest.mark.parametrize("password", ["", "ecoeco", "short"])
def test_postgres_refuses_a_missing_or_published_superuser_password(
    docker_client: docker.DockerClient, password: str
) -> None:
    logs = refused_start(docker_client, "ecoeco-postgres", {"PG_PASSWORD": password, "PG_DATABASE": "x"})
    assert "refusing to start: PG_PASSWORD" in logs, logs[-500:]


@pytest.mark.integration
def test_a_broker_refuses_to_start_without_users(docker_client: docker.DockerClient) -> None:
    logs = refused_start(docker_client, "ecoeco-rabbitmq", {"RABBITMQ_COOKIE": "c" * 30})
    assert "refusing to start: RABBITMQ_DEFINITIONS" in logs, logs[-500:]
