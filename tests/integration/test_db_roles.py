"""Each service connects to PostgreSQL as its own role, with rights on its own database's rows only
(issue 10 §3): no superuser, no DDL, nothing outside its domain."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from harness.stack import Stack
from system import topology
from system.credentials import pg_password

pytestmark = pytest.mark.integration


def connect(stack: Stack, server: str, role: str, dbname: str | None = None) -> psycopg2.extensions.connection:
    return psycopg2.connect(
        host="127.0.0.1",
        port=stack.config.port(server),
        dbname=dbname or topology.load().databases[server],
        user=role,
        password=pg_password(role),
        connect_timeout=5,
    )


def test_every_app_container_connects_as_its_own_role(stack: Stack) -> None:
    app = {*topology.load().apis, *topology.load().workers}
    addresses = {
        net["IPAddress"]: service
        for service in app
        for net in stack.container(service).attrs["NetworkSettings"]["Networks"].values()
    }
    seen: dict[str, set[str]] = {}
    for server in topology.load().databases:
        with psycopg2.connect(stack.config.dsn(server)) as conn, conn.cursor() as cur:
            cur.execute("SELECT host(client_addr), usename FROM pg_stat_activity WHERE backend_type = 'client backend'")
            for addr, user in cur.fetchall():
                if addr in addresses:
                    seen.setdefault(addresses[addr], set()).add(user)
    assert seen, "no service connection found"
    for service, users in seen.items():
        assert users == {service.replace("-llm", "").replace("-", "_")}, (service, users)


def test_a_role_reads_and_writes_rows_but_cannot_change_the_schema(stack: Stack) -> None:
    with connect(stack, "pg-waste", "waste_api") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM tasks")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("CREATE TABLE intruder (x int)")
    with connect(stack, "pg-waste", "recycle_api") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM results")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):  # a read-only service
            cur.execute("DELETE FROM results")


def test_a_role_exists_only_on_its_own_domains_server(stack: Stack) -> None:
    with pytest.raises(psycopg2.OperationalError, match=r"authentication failed|does not exist"):
        connect(stack, "pg-auth", "waste_api", "ecoeco_auth")
    with pytest.raises(psycopg2.OperationalError, match=r"permission denied|authentication failed"):
        connect(stack, "pg-waste", "waste_api", "postgres")  # not even the server's other databases
