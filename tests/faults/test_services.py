"""Faults that need a real server: PostgreSQL connection exhaustion, RabbitMQ poison messages and blocked queues."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import docker
import pika
import pika.exceptions
import psycopg2
import pytest

from faults import BlockQueue, ExhaustPool, PoisonMessages, RefuseCommits, took_effect
from faults.amqp import amqp_connection, queue_depth
from faults.leftovers import heal_leftovers
from faults.target import Project
from faults.wait import until
from system.broker import declare_topology
from system.broker_access import definitions
from system.credentials import PG_SUPERUSER, amqp_password, amqp_users, pg_superuser_password
from system.settings import Settings
from tests.faults.conftest import PROJECT, TestProject, require_image

pytestmark = pytest.mark.integration


def superuser(port: int, timeout_s: int) -> psycopg2.extensions.connection:
    """A connection as the generated superuser to the test's own postgres."""
    return psycopg2.connect(
        host="127.0.0.1",
        port=port,
        user=PG_SUPERUSER,
        password=pg_superuser_password(),
        dbname="postgres",
        connect_timeout=timeout_s,
    )


@pytest.fixture
def postgres(proj: TestProject, docker_client: docker.DockerClient) -> Iterator[int]:
    """pg-waste with max_connections=10; yields its 127.0.0.1 port."""
    image = require_image(docker_client, "ecoeco-postgres")
    proj.run(
        "pg-waste",
        image=image,
        command=None,
        environment={"PG_MAX_CONNECTIONS": "10", "PG_PASSWORD": pg_superuser_password()},
        ports={"5432/tcp": ("127.0.0.1", None)},
    )
    port = proj.stack.host_port("pg-waste", 5432)
    until(
        lambda: superuser(port, 2).close() or True,
        timeout_s=90,
        what="postgres accepting",
    )
    yield port


def test_exhaust_pool_until_too_many_clients(proj: TestProject, postgres: int) -> None:
    fault = ExhaustPool(proj.stack, "pg-waste")
    fault.inject()
    evidence = fault.evidence()
    assert took_effect(evidence), evidence
    with pytest.raises(psycopg2.OperationalError, match="too many clients"):
        superuser(postgres, 5)
    fault.heal()
    fault.heal()
    superuser(postgres, 5).close()


def test_refuse_commits_lets_statements_run_and_refuses_the_commit(
    proj: TestProject, postgres: int, tmp_path: Path
) -> None:
    with contextlib.closing(superuser(postgres, 5)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE ecoeco_waste")
    db = psycopg2.connect(
        host="127.0.0.1", port=postgres, user=PG_SUPERUSER, password=pg_superuser_password(), dbname="ecoeco_waste"
    )
    with contextlib.closing(db):
        with db.cursor() as cur:
            cur.execute("CREATE TABLE task_stages (task_id text PRIMARY KEY)")
        db.commit()
        fault = RefuseCommits(proj.stack, "pg-waste", "ecoeco_waste", ("task_stages",))
        fault.inject()
        assert not took_effect(fault.evidence())  # armed, but nothing refused yet
        with db.cursor() as cur:
            cur.execute("INSERT INTO task_stages VALUES ('a')")  # the statement itself succeeds
        with pytest.raises(psycopg2.errors.SerializationFailure):
            db.commit()
        db.rollback()
        evidence = fault.evidence()
        assert took_effect(evidence), evidence
        fault.heal()
        fault.heal()
        with db.cursor() as cur:
            cur.execute("INSERT INTO task_stages VALUES ('b')")
        db.commit()
        with db.cursor() as cur:
            cur.execute("SELECT task_id FROM task_stages")
            assert [r[0] for r in cur.fetchall()] == ["b"]
        db.commit()
        # a refusal an interrupted run left behind is found and dropped by the leftovers pass
        fault = RefuseCommits(proj.stack, "pg-waste", "ecoeco_waste", ("task_stages",))
        fault.inject()
        assert "dropped a commit refusal on pg-waste/ecoeco_waste.task_stages" in heal_leftovers(
            proj.client, PROJECT, control_file=tmp_path / "gpt.json"
        )
        with db.cursor() as cur:
            cur.execute("INSERT INTO task_stages VALUES ('c')")
        db.commit()
        fault.heal()  # nothing left to drop: still fine, and its connection is closed
        # a trigger a failed heal left behind does not stop the next inject, and its heal drops it
        fault = RefuseCommits(proj.stack, "pg-waste", "ecoeco_waste", ("task_stages",))
        fault.inject()
        fault.inject()
        fault.heal()
        with db.cursor() as cur:
            cur.execute("INSERT INTO task_stages VALUES ('d')")
        db.commit()


@pytest.fixture
def rabbitmq(proj: TestProject, docker_client: docker.DockerClient) -> Iterator[Project]:
    """A one-node ecoeco-rabbitmq (service rabbitmq-1) with the system's own queue topology."""
    image = require_image(docker_client, "ecoeco-rabbitmq")
    proj.run(
        "rabbitmq-1",
        image=image,
        command=None,
        hostname="rabbitmq-1",
        ports={"5672/tcp": ("127.0.0.1", None)},
        environment={
            "RABBITMQ_COOKIE": secrets.token_hex(24),
            "RABBITMQ_DEFINITIONS": definitions({u: amqp_password(u) for u in amqp_users()}),
        },
    )
    conn = until(
        lambda: amqp_connection(proj.stack, "rabbitmq-1"), timeout_s=120, what="RabbitMQ accepting AMQP", interval_s=1
    )
    try:
        # one node reached through a published port: no cluster members to wait for
        declare_topology(conn.channel(), Settings(amqp_nodes=()))
    finally:
        conn.close()
    yield proj.stack


def publish_confirmed(stack: Project, queue: str) -> bool:
    """Publish one persistent message with confirms, as the system does; False when nacked."""
    conn = amqp_connection(stack, "rabbitmq-1")
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        body = json.dumps({"task_id": "t-1"}).encode()
        try:
            channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2), mandatory=True)
        except pika.exceptions.NackError:
            return False
        return True
    finally:
        conn.close()


def test_poison_messages_end_in_the_dead_letter_queue(rabbitmq: Project) -> None:
    fault = PoisonMessages(rabbitmq, "user_input_queue", count=2, dead_letter_timeout_s=10)
    fault.inject()
    conn = amqp_connection(rabbitmq, "rabbitmq-1")
    try:
        channel = conn.channel()
        assert queue_depth(channel, "user_input_queue") == 2
        # play the worker: an unprocessable message is rejected without requeue, so it is dead-lettered
        for _ in range(2):
            method, _props, body = channel.basic_get("user_input_queue")
            assert method is not None and b'"task_id": "t' not in body
            channel.basic_reject(method.delivery_tag, requeue=False)
    finally:
        conn.close()
    evidence = fault.evidence()
    assert took_effect(evidence), evidence
    fault.heal()


def test_poison_messages_not_dead_lettered_is_reported(rabbitmq: Project) -> None:
    fault = PoisonMessages(rabbitmq, "auth_queue", count=1, dead_letter_timeout_s=1)
    fault.inject()
    evidence = {e.check: e for e in fault.evidence()}
    assert evidence["published"].ok and not evidence["dead-lettered"].ok


def test_block_queue_nacks_publishes_until_healed(rabbitmq: Project) -> None:
    fault = BlockQueue(rabbitmq, "vision_analysis_queue", nodes=["rabbitmq-1"])
    fault.inject()
    evidence = fault.evidence()
    assert took_effect(evidence), evidence
    assert not publish_confirmed(rabbitmq, "vision_analysis_queue")
    assert publish_confirmed(rabbitmq, "rule_retrieval_queue")  # only that queue
    fault.heal()
    fault.heal()
    assert publish_confirmed(rabbitmq, "vision_analysis_queue")
    assert not took_effect(fault.evidence())


def test_leftover_policy_is_cleared(rabbitmq: Project, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    BlockQueue(rabbitmq, "response_generation_queue", nodes=["rabbitmq-1"]).inject()  # never healed: a crashed run
    actions = heal_leftovers(docker_client, PROJECT, control_file=tmp_path / "gpt.json")
    assert "cleared RabbitMQ policy ecoeco-fault-block-response_generation_queue" in actions
    # an empty quorum queue takes one message before rejecting: two publishes must both pass now
    assert publish_confirmed(rabbitmq, "response_generation_queue")
    assert publish_confirmed(rabbitmq, "response_generation_queue")
