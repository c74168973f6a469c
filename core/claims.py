"""The design document's claims for F1-F17, as data, in one place (scenarios and reports read it).

Numbers come from the spec's table (section 5, `source="spec"`) or, where the table is
silent, from its general claims: RTO < 5 min, RPO = 0, other domains keep serving
(`source="general"`). Impact domains: waste (upload/status API), pipeline (end-to-end
analysis), auth, userinfo, location, recycle, chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GENERAL_RTO_S = 300.0  # "RTO < 5 minutes for every failure type"
DOMAINS = frozenset({"waste", "pipeline", "auth", "userinfo", "location", "recycle", "chat"})

RtoFrom = Literal["injection", "heal"]
Source = Literal["spec", "general"]


@dataclass(frozen=True)
class Claim:
    """What the design claims for one failure point."""

    fid: str
    title: str
    layer: str
    fault: str  # fault mechanism: "<effect>:<target>", implemented in faults/
    rto_s: float | None  # as stated; None = "until the API recovers" (measured from heal)
    rto_from: RtoFrom  # the instant the claimed RTO is measured from (both are recorded)
    impact: frozenset[str]  # domains allowed to suffer; every other one must keep serving
    alert: str
    source: Source  # where rto_s / rpo_ops come from
    rpo_ops: int = 0  # acknowledged operations allowed to be lost
    detection: str | None = None  # the spec's alert expression, where it gives one
    known_weakness: str | None = None  # spec section 6: why the claim is doubtful

    @property
    def rto_limit_s(self) -> float:
        """The bound to judge against: the stated RTO, else the general 5 minutes."""
        return GENERAL_RTO_S if self.rto_s is None else self.rto_s


_REPUBLISH = (
    "Recovery republishes unfinished WAL rows while the original message may still be "
    "in a durable queue: a task runs twice unless consumers are idempotent; rows marked "
    "'republished' are never selected again, so a republished message lost again stays lost."
)

# Faults that persist until the harness repairs them are measured from heal: no system can
# come back before its disk, network or provider does. Crashes repaired by the restart
# policy are measured from injection, as the spec's table does.
# A table reads better as rows than as ruff-formatted call trees.
# fmt: off
_CLAIMS: tuple[Claim, ...] = (
    # "waste analysis only": uploads stop, and so does the pipeline's entry point.
    Claim("F1", "waste-api down", "api", "crash:waste-api", 30, "injection",
          frozenset({"waste", "pipeline"}), "WasteAPIDown", "spec",
          detection='up{job="waste-api"} == 0 for 1m'),
    # "authentication only": login/register; bearer tokens are verified without auth-api.
    Claim("F2", "auth-api down", "api", "crash:auth-api", 30, "injection",
          frozenset({"auth"}), "AuthAPIDown", "spec"),
    # Not in the table: general claims; chat-llm-api serves only the chat domain.
    Claim("F3", "chat-llm-api down", "api", "crash:chat-llm-api", None, "injection",
          frozenset({"chat"}), "ChatAPIDown", "general"),
    # "no new publishing": the pipeline stalls; the APIs, waste-api included, are not listed as
    # affected, so they are held to keep answering.
    Claim("F4", "RabbitMQ cluster failure", "queue", "crash:rabbitmq-all", 120, "injection",
          frozenset({"pipeline"}), "RabbitMQDown", "spec", detection="rabbitmq_up == 0 for 2m",
          known_weakness="Nothing says what waste-api does with an upload while RabbitMQ is down. "
          + _REPUBLISH),
    # A blocked queue stops the pipeline stage that consumes it, nothing else.
    Claim("F5", "a specific queue blocked (dead letter)", "queue", "dead_letter:queue", None, "heal",
          frozenset({"pipeline"}), "QueueDeadLettering", "general"),
    # The point is the loss; the broker restart itself stalls the pipeline like F4. Loss has no
    # alert of its own, only the restart is visible.
    Claim("F6", "message loss (non-persistent messages)", "queue", "broker_restart:transient", None,
          "injection", frozenset({"pipeline"}), "RabbitMQDown", "general",
          known_weakness="No recovery story at all: transient messages die with the broker."),
    # "S3 upload stops; messages stay in RabbitMQ".
    Claim("F7", "Worker-Storage down", "worker", "crash:worker-storage", 60, "injection",
          frozenset({"pipeline"}), "WorkerStorageDown", "spec",
          detection='up{job="worker-storage"} == 0 for 2m',
          known_weakness="Unfinished rows older than one hour become 'timeout' on restart: a long "
          "outage loses work. " + _REPUBLISH),
    # "AI analysis stops".
    Claim("F8", "Worker-AI down", "worker", "crash:worker-ai", 60, "injection",
          frozenset({"pipeline"}), "WorkerAIDown", "spec", known_weakness=_REPUBLISH),
    # The WAL is local to Worker-Storage: only its pipeline stages can suffer.
    Claim("F9", "local WAL file corrupted", "worker", "corrupt_wal:worker-storage", None, "heal",
          frozenset({"pipeline"}), "WALCorruption", "general",
          known_weakness="No recovery story at all; a damaged SQLite -wal silently drops commits."),
    # Results wait in the worker WAL: only end-to-end completion is delayed.
    Claim("F10", "PostgreSQL sync failure", "worker", "cut_network:worker->pg-waste", None, "heal",
          frozenset({"pipeline"}), "WALSyncFailing", "general"),
    # "storing results fails; auth and chat DBs are fine"; waste-api and recycle-api use ecoeco_waste.
    Claim("F11", "ecoeco_waste DB down", "database", "crash:pg-waste", 300, "injection",
          frozenset({"waste", "pipeline", "recycle"}), "WasteDBDown", "spec",
          detection='pg_up{database="ecoeco_waste"} == 0 for 1m',
          known_weakness="Background sync gives up after 10 attempts: a long outage leaves "
          "results unsynced."),
    # "authentication fails": login/register and userinfo (ecoeco_auth only). Flow step 2 has
    # waste-api check auth against ecoeco_auth, but the claim names authentication only and
    # tokens are verified statelessly, so waste and chat are held to keep serving.
    Claim("F12", "ecoeco_auth DB down", "database", "crash:pg-auth", 300, "injection",
          frozenset({"auth", "userinfo"}), "AuthDBDown", "spec"),
    # Same reach as F11: everything that talks to ecoeco_waste.
    Claim("F13", "DB connection pool exhausted", "database", "exhaust_pool:pg-waste", None, "heal",
          frozenset({"waste", "pipeline", "recycle"}), "DBPoolExhausted", "general"),
    # The spec gives no scope; assumed: the worker WAL volume and ecoeco_waste's disk.
    Claim("F14", "disk space exhausted", "database", "fill_disk:wal/pg", None, "heal",
          frozenset({"waste", "pipeline", "recycle"}), "DiskFull", "general"),
    # "image analysis stops; other domains fine"; RTO "until the API recovers" = from heal,
    # bounded by the general 5 minutes.
    Claim("F15", "GPT-5 Vision API failure", "external", "gpt_outage:gpt5", None, "heal",
          frozenset({"pipeline"}), "GPT5APIDown", "spec",
          detection="rate(gpt5_api_errors_total[5m]) > 0.5 for 5m"),
    # Response generation uses GPT-4o mini; chat is the LLM domain (the spec does not name its
    # model; the GPT fake routes unnamed models to gpt4o-mini), so chat may suffer too.
    Claim("F16", "GPT-4o mini API failure", "external", "gpt_outage:gpt4o-mini", None, "heal",
          frozenset({"pipeline", "chat"}), "GPT4oMiniAPIDown", "general"),
    # image-uploader is the only S3 client.
    Claim("F17", "S3 failure", "external", "s3_outage", None, "heal",
          frozenset({"pipeline"}), "S3Down", "general"),
)
# fmt: on

_BY_ID: dict[str, Claim] = {c.fid: c for c in _CLAIMS}


def claim(fid: str) -> Claim:
    """The claim of one failure point ("F1".."F17"); KeyError names the unknown id."""
    try:
        return _BY_ID[fid.upper()]
    except KeyError:
        raise KeyError(f"unknown failure point {fid!r}; known: {', '.join(_BY_ID)}") from None


def all_claims() -> tuple[Claim, ...]:
    """All claims in F1..F17 order."""
    return _CLAIMS
