"""Runtime settings of every Ecoeco service, read once from the environment.

Every timer of the design is given in production seconds and multiplied by one
time-scale setting, so the chaos suite can run the design's minutes in seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache

# Planted defects: the spec's as-written policies and classic unsafe choices.
# All off by default; the harness's controls switch them on to prove a checker can fail.
UNSAFE_OPTIONS = frozenset(
    {
        "transient_delivery",  # delivery_mode=1 instead of persistent
        "no_confirms",  # publish without publisher confirms (fire and forget)
        "ack_before_wal",  # ack the delivery before the stage's work is durable
        "timeout_drop",  # spec: unfinished rows older than 1 h become 'timeout' on restart
        "sync_gives_up",  # spec: background sync stops after 10 attempts
        "republish_once",  # spec: 'republished' rows are never selected again
        "no_idempotency",  # stages redo work and insert results even if already done
        "classic_queues",  # classic queues (durable, on one node, not replicated) instead of quorum queues
        "auth_via_db",  # spec section 2 as written: every request re-checks the user in ecoeco_auth
        "direct_publish",  # spec section 2 as written: waste-api publishes in the request, no outbox
        "wal_unchecked",  # spec section 6 as written: nothing checks the WAL, a damaged -wal goes unseen (F9)
        "ack_on_wal_error",  # a delivery whose WAL write fails (disk full, I/O error) is acked and dropped
        "queue_without_task_row",  # waste-api answers 202 and queues an upload its database refused
        "s3_error_ignored",  # worker-storage goes on without the image when S3 refuses it
        "sync_marks_refused",  # a WAL sync batch the database refused is marked synced all the same
        "sync_marks_before_commit",  # a WAL sync batch is marked synced inside its transaction, before COMMIT
        "outbox_marks_failed",  # waste-api removes an outbox row whose publish the broker refused
    }
)

# The design's timers in production seconds (spec sections 3 and 4).
SYNC_BACKOFF_BASE_S = 60.0
SYNC_PERIOD_S = 300.0
TASK_TIMEOUT_S = 3600.0
GPT_RETRY_BASE_S = 60.0
RECOVERY_POLL_S = 5.0
WAL_RETENTION_S = 86400.0  # finished, synced WAL rows are kept a day, then pruned
PRUNE_PERIOD_S = 300.0  # how often the worker looks for rows past the retention
GPT_TIMEOUT_S = 90.0  # a GPT call is given up after this (three times GPT-5's ~30 s design latency)
GPT_TIMEOUT_FLOOR_S = 2.0  # never shorter, whatever the time scale


# Secrets that were ever defaults in this repository: anyone can mint a token with them.
KNOWN_TOKEN_SECRETS = frozenset({"", "ecoeco-dev-secret", "ecoeco-dev-token-secret", "changeme", "secret"})
MIN_TOKEN_SECRET_LEN = 32


def token_secret_problem(secret: str) -> str | None:
    """Why `secret` must not sign tokens, or None: a known default, or too short to resist guessing."""
    if secret in KNOWN_TOKEN_SECRETS:
        return "ECOECO_TOKEN_SECRET is unset or a value published in this repository"
    if len(secret) < MIN_TOKEN_SECRET_LEN:
        return f"ECOECO_TOKEN_SECRET has {len(secret)} characters, fewer than {MIN_TOKEN_SECRET_LEN}"
    return None


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """All configuration of one service process."""

    time_scale: float = 1.0
    unsafe: frozenset[str] = field(default_factory=frozenset)
    token_secret: str = ""
    token_ttl_s: float = 3600.0
    amqp_nodes: tuple[str, ...] = ("rabbitmq-1", "rabbitmq-2", "rabbitmq-3")
    amqp_user: str = ""  # each service that talks to RabbitMQ has its own (system/broker_access.py)
    amqp_password: str = ""
    pg_dsn: dict[str, str] = field(default_factory=dict)
    s3_endpoint: str = "http://s3:5000"
    s3_bucket: str = "ecoeco-images"
    gpt_base_url: str = "https://gpt.invalid/v1"
    gpt_control: str = "/control/gpt.json"
    gpt_timeout_s: float = GPT_TIMEOUT_S
    wal_path: str = "/var/lib/ecoeco/wal/task_queue.db"
    wal_retention_s: float = WAL_RETENTION_S  # design seconds (scaled like every timer)
    max_upload_bytes: int = 1024 * 1024
    # deliveries a consumer may hold unacknowledged: many for short tasks (one ack covers a burst),
    # few for long ones (GPT calls), or a backlog lands on the first consumers to connect
    prefetch: int = 50
    # consumers per stage: a stage's work is mostly waiting (S3, confirms, fsync), so a few overlap
    stage_consumers: int = 3

    def scaled(self, production_seconds: float) -> float:
        """A design timer in this run's seconds."""
        return production_seconds * self.time_scale

    def is_unsafe(self, option: str) -> bool:
        """True when the planted defect `option` is switched on."""
        return option in self.unsafe


def _parse_unsafe(raw: str) -> frozenset[str]:
    options = frozenset(o.strip() for o in raw.split(",") if o.strip())
    unknown = options - UNSAFE_OPTIONS
    if unknown:
        raise ValueError(f"unknown ECOECO_UNSAFE option(s): {sorted(unknown)}; known: {sorted(UNSAFE_OPTIONS)}")
    return options


def _positive_int(name: str, default: str) -> int:
    raw = _env(name, default)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


def from_env() -> Settings:
    """Build Settings from ECOECO_* variables (see docs/contracts.md)."""
    domains = ("auth", "waste", "chat", "location", "analytics")
    # no default credentials: compose gives a service the DSNs of its own databases, with its own role
    dsn = {d: _env(f"ECOECO_PG_{d.upper()}_DSN", f"postgresql://pg-{d}:5432/ecoeco_{d}") for d in domains}
    if "ECOECO_PG_ANALYTICS_DSN" not in os.environ:
        dsn["analytics"] = "postgresql://pg-analytics:5432/ecoeco_waste"
    time_scale = float(_env("ECOECO_TIME_SCALE", "1.0"))
    gpt_timeout_default = max(GPT_TIMEOUT_FLOOR_S, GPT_TIMEOUT_S * time_scale)
    return Settings(
        time_scale=time_scale,
        unsafe=_parse_unsafe(_env("ECOECO_UNSAFE", "")),
        token_secret=_env("ECOECO_TOKEN_SECRET", ""),
        amqp_nodes=tuple(n.strip() for n in _env("ECOECO_AMQP_NODES", "rabbitmq-1,rabbitmq-2,rabbitmq-3").split(",")),
        amqp_user=_env("ECOECO_AMQP_USER", ""),
        amqp_password=_env("ECOECO_AMQP_PASSWORD", ""),
        pg_dsn=dsn,
        s3_endpoint=_env("ECOECO_S3_ENDPOINT", "http://s3:5000"),
        gpt_base_url=_env("ECOECO_GPT_BASE_URL", "https://gpt.invalid/v1"),
        gpt_control=_env("ECOECO_GPT_CONTROL", "/control/gpt.json"),
        gpt_timeout_s=float(_env("ECOECO_GPT_TIMEOUT_S", str(gpt_timeout_default))),
        wal_path=_env("ECOECO_WAL_PATH", "/var/lib/ecoeco/wal/task_queue.db"),
        wal_retention_s=float(_env("ECOECO_WAL_RETENTION_S", str(WAL_RETENTION_S))),
        stage_consumers=_positive_int("ECOECO_STAGE_CONSUMERS", "3"),
        prefetch=_positive_int("ECOECO_PREFETCH", "50"),
    )


@cache
def get() -> Settings:
    """The process-wide settings."""
    return from_env()
