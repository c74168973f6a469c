"""The running stack's credentials (issue 10 §3): the published defaults are refused, and every
service that talks to RabbitMQ does so as its own user, none an administrator."""

from __future__ import annotations

import contextlib
import ipaddress
import json

import pika
import pika.exceptions
import psycopg2
import pytest

from faults.wait import WaitTimeout, until
from harness.stack import Stack
from system.credentials import AMQP_ADMIN, AMQP_SERVICE_USERS

pytestmark = pytest.mark.integration


def test_the_old_published_passwords_no_longer_open_anything(stack: Stack) -> None:
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        pika.BlockingConnection(
            pika.ConnectionParameters(
                "127.0.0.1",
                stack.config.port("rabbitmq-1"),
                credentials=pika.PlainCredentials("ecoeco", "ecoeco"),
                connection_attempts=1,
                socket_timeout=5,
            )
        )
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host="127.0.0.1",
            port=stack.config.port("pg-waste"),
            user="ecoeco",
            password="ecoeco",
            dbname="postgres",
            connect_timeout=5,
        )


def _host(value: object) -> str:
    """rabbitmqctl's JSON gives a peer address as text, an Erlang charlist (its character codes) or
    an address tuple: four numbers (IPv4) or eight 16-bit ones (IPv6, IPv4-mapped inside Docker)."""
    if not isinstance(value, list):
        return str(value)
    numbers = [int(x) for x in value]
    if len(numbers) == 4:
        return ".".join(map(str, numbers))
    if len(numbers) == 8 and any(n > 255 for n in numbers):
        v6 = ipaddress.IPv6Address(b"".join(n.to_bytes(2, "big") for n in numbers))
        return str(v6.ipv4_mapped or v6)
    return bytes(numbers).decode("ascii")


def test_each_service_talks_to_the_broker_as_its_own_user(stack: Stack) -> None:
    # waste-api connects on its first publish: one upload makes it
    from harness.probes import ProbeUser
    from tests.integration.test_system import submit

    submit(stack, ProbeUser(stack.config), 1, "broker-user")
    node = stack.container("rabbitmq-1")
    users = json.loads(node.exec_run(["rabbitmqctl", "-q", "list_users", "--formatter", "json"]).output)
    assert {u["user"]: u["tags"] for u in users} == {
        AMQP_ADMIN: ["administrator"],
        **{u: [] for u in AMQP_SERVICE_USERS.values()},
    }
    addresses = {
        net["IPAddress"]: service
        for service in AMQP_SERVICE_USERS
        for net in stack.container(service).attrs["NetworkSettings"]["Networks"].values()
    }

    def seen() -> set[tuple[str, str]]:
        out = node.exec_run(["rabbitmqctl", "-q", "list_connections", "user", "peer_host", "--formatter", "json"])
        hosts = [(_host(c["peer_host"]), c["user"]) for c in json.loads(out.output)]
        return {(addresses[host], user) for host, user in hosts if host in addresses}

    # polled: waste-api's relay connects just after the upload's hand-over
    with contextlib.suppress(WaitTimeout):  # the assert below shows what was missing
        until(lambda: seen() == set(AMQP_SERVICE_USERS.items()) or None, timeout_s=15, what="each service connected")
    assert seen() == set(AMQP_SERVICE_USERS.items())
