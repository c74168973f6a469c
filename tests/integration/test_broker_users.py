"""The running stack's credentials (issue 10 §3): the published defaults are refused, and every
service that talks to RabbitMQ does so as its own user, none an administrator."""

from __future__ import annotations

import json

import pika
import pika.exceptions
import psycopg2
import pytest

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


def test_each_service_talks_to_the_broker_as_its_own_user(stack: Stack) -> None:
    node = stack.container("rabbitmq-1")
    users = json.loads(node.exec_run(["rabbitmqctl", "-q", "list_users", "--formatter", "json"]).output)
    assert {u["user"]: u["tags"] for u in users} == {
        AMQP_ADMIN: ["administrator"],
        **{u: [] for u in AMQP_SERVICE_USERS.values()},
    }
    listing = node.exec_run(
        ["rabbitmqctl", "-q", "list_connections", "user", "peer_host", "--formatter", "json"]
    ).output
    addresses = {
        net["IPAddress"]: service
        for service in AMQP_SERVICE_USERS
        for net in stack.container(service).attrs["NetworkSettings"]["Networks"].values()
    }
    # rabbitmqctl's JSON gives an IPv4 address as its four numbers
    hosts = [
        (".".join(map(str, c["peer_host"])) if isinstance(c["peer_host"], list) else c["peer_host"], c["user"])
        for c in json.loads(listing)
    ]
    seen = {(addresses[host], user) for host, user in hosts if host in addresses}
    assert seen == set(AMQP_SERVICE_USERS.items())
