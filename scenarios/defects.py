"""The planted defects the system can be built with, and what planting one takes.

Each is an environment setting of some services (docs/contracts.md: ECOECO_UNSAFE,
ECOECO_RESTART_POLICY, PG_SYNCHRONOUS_COMMIT). A control recreates only those services with it,
runs a failure point's own plan (scenarios/catalogue.py, `defects`), and must see the named
judgement VIOLATED. A defect whose effect another mechanism repairs on its own is listed with
the reason and the combined defect that does show it; it has no control of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from system import as_written, topology

# every service that publishes or declares queues (and so reads the broker defects)
PUBLISHERS = ("waste-api", "worker-storage", "worker-ai")
WORKERS = topology.load().workers


@dataclass(frozen=True)
class Defect:
    """One planted defect: the environment that plants it and the services that read it."""

    name: str
    env: Mapping[str, str]
    services: tuple[str, ...]
    what: str
    reset_queues: bool = False  # the queue type changes: existing queues are deleted first
    covered_by: str = ""  # equivalent on its own: the combined defect that shows it
    why_equivalent: str = ""


def _unsafe(*options: str) -> dict[str, str]:
    return {"ECOECO_UNSAFE": ",".join(options)}


# fmt: off
DEFECTS: tuple[Defect, ...] = (
    Defect("ack_before_wal", _unsafe("ack_before_wal"), WORKERS,
           "deliveries acked on receipt (auto-ack), before the stage's work is in the WAL"),
    Defect("no_idempotency", _unsafe("no_idempotency"), WORKERS,
           "stages redo a redelivered task and overwrite its result"),
    Defect("no_confirms", _unsafe("no_confirms"), PUBLISHERS,
           "publishes count as done without a broker confirm"),
    Defect("transient_delivery", _unsafe("transient_delivery"), PUBLISHERS,
           "messages published with delivery_mode=1",
           covered_by="transient_delivery+classic_queues",
           why_equivalent="quorum queues store every message whatever its delivery_mode (RabbitMQ's queue "
                          "feature matrix; measured: 0 lost on a full-cluster SIGKILL)"),
    Defect("classic_queues", _unsafe("classic_queues"), PUBLISHERS,
           "durable classic queues (one node, not replicated) instead of quorum queues", reset_queues=True,
           covered_by="transient_delivery+classic_queues",
           why_equivalent="a durable classic queue keeps persistent, confirmed messages across a restart of "
                          "its node; only a lost disk (not among F1-F17) would show it"),
    Defect("transient_delivery+classic_queues", _unsafe("transient_delivery", "classic_queues"), PUBLISHERS,
           "transient messages in classic queues: the design's F6", reset_queues=True),
    Defect("timeout_drop", _unsafe("timeout_drop"), WORKERS,
           "spec: rows older than one hour become 'timeout' on restart (and are abandoned)"),
    Defect("sync_gives_up", _unsafe("sync_gives_up"), WORKERS,
           "spec: the WAL sync (and the GPT retries) give up after 10 attempts"),
    Defect("republish_once", _unsafe("republish_once"), WORKERS,
           "spec: rows marked 'republished' are never selected by recovery again",
           covered_by="republish_once+ack_before_wal",
           why_equivalent="a republished message sits in a durable queue and is processed later anyway; only "
                          "when that copy is lost again (acked before it is in the WAL) does the skip lose it"),
    Defect("republish_once+ack_before_wal", _unsafe("republish_once", "ack_before_wal"), WORKERS,
           "recovery republishes each row once, and the copies are acked on receipt"),
    # the design's services share the auth database's credentials: here auth-api's role
    Defect("auth_via_db", {**_unsafe("auth_via_db"), "ECOECO_DEFECT_AUTH_DSN": as_written.AUTH_DSN},
           ("waste-api", "chat-llm-api"),
           "spec section 2: every request re-checks the user in ecoeco_auth"),
    Defect("direct_publish", _unsafe("direct_publish"), ("waste-api",),
           "spec section 2: waste-api publishes in the request, without an outbox"),
    Defect("wal_unchecked", _unsafe("wal_unchecked"), ("worker-storage",),
           "spec section 6: nothing counts the WAL's commits, so a damaged -wal goes unseen"),
    Defect("ack_on_wal_error", _unsafe("ack_on_wal_error"), WORKERS,
           "a delivery whose WAL write fails (disk full) is acked and dropped instead of requeued"),
    Defect("queue_without_task_row", _unsafe("queue_without_task_row"), ("waste-api",),
           "an upload whose task row the database refused is answered 202 and queued anyway"),
    Defect("s3_error_ignored", _unsafe("s3_error_ignored"), ("worker-storage",),
           "the pipeline goes on without the image when S3 refuses it"),
    Defect("sync_marks_refused", _unsafe("sync_marks_refused"), WORKERS,
           "a WAL sync batch the database refused is marked synced all the same"),
    Defect("sync_marks_before_commit", _unsafe("sync_marks_before_commit"), WORKERS,
           "a WAL sync batch is marked synced inside its transaction, before COMMIT returned"),
    Defect("outbox_marks_failed", _unsafe("outbox_marks_failed"), ("waste-api",),
           "an outbox row whose publish the broker refused is removed as if published"),
    Defect("restart_policy_no", {"ECOECO_RESTART_POLICY": "no"}, ("waste-api",),
           "no restart policy: a crashed service stays down"),
    Defect("pg_sync_commit_off", {"PG_SYNCHRONOUS_COMMIT": "off"}, ("pg-waste",),
           "ecoeco_waste acknowledges commits before they are on disk"),
)
# fmt: on

SAFE_ENV: dict[str, str] = {
    "ECOECO_UNSAFE": "",
    "ECOECO_DEFECT_AUTH_DSN": "",
    "ECOECO_RESTART_POLICY": "unless-stopped",
    "PG_SYNCHRONOUS_COMMIT": "on",
}
_BY_NAME = {d.name: d for d in DEFECTS}


def defect(name: str) -> Defect:
    """A defect by name; KeyError lists the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown defect {name!r}; known: {', '.join(_BY_NAME)}") from None
