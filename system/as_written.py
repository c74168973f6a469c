"""The design as written: the policies the document spells out, and the safety it never mentions,
as the settings that build the system that way (`scripts/chaos.sh --as-written`).

One place: the harness builds the stack from it, the design review names each policy's fix from
it, docs/as-written.md explains it. Where the document is silent on a safety mechanism (publisher
confirms, replicated queues, idempotent consumers, an outbox), the design as written has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from system.settings import UNSAFE_OPTIONS


@dataclass(frozen=True)
class Policy:
    """One way the design as written differs from the hardened build."""

    option: str  # its ECOECO_UNSAFE option (system/settings.py)
    written: str  # what the document says (or leaves out), with its section
    fix: str  # what the hardened build does instead, and where
    bites: tuple[str, ...]  # "<failure point>:<kind>" where it can cost a claim (kinds: reports.cells.classify)


# fmt: off
POLICIES: tuple[Policy, ...] = (
    Policy("republish_once",
           "§3 F4: recovery republishes pending/running rows and marks them 'republished', which is never "
           "selected again",
           "recovery selects a row until it is done, whatever it was marked (system/workers/recovery.py)",
           ("F4:rpo", "F7:rpo", "F8:rpo")),
    Policy("timeout_drop",
           "§3 F7: unfinished rows older than one hour become 'timeout' on restart",
           "no age limit: every unfinished row is republished at start (system/workers/recovery.py)",
           ("F7:rpo", "F8:rpo", "F15:rpo")),
    Policy("sync_gives_up",
           "§3 F11: the sync retries 5 times, the background job re-queues rows with sync_retry_count < 10; "
           "§3 F15: up to 10 GPT retries",
           "retries never stop: backoff capped, attempts unbounded (system/workers/sync.py, retry.py)",
           ("F10:rpo", "F11:rpo", "F15:rpo")),
    Policy("auth_via_db",
           "§2 step 2: waste-api checks authentication against ecoeco_auth (chat alike)",
           "bearer tokens are signed and verified without a database (system/tokens.py)",
           ("F12:isolation", "F12:rto")),
    Policy("direct_publish",
           "§2 step 2: waste-api stores the task, publishes to user_input_queue, answers; §6: nothing says "
           "what it does while RabbitMQ is down",
           "an outbox in ecoeco_waste, relayed once the broker confirms (system/apis/waste.py)",
           ("F4:isolation", "F4:rpo", "F6:isolation")),
    Policy("no_confirms",
           "§1: durable queues and delivery_mode=2; publisher confirms are not mentioned",
           "a publish counts only once the broker confirmed it (system/broker.py)",
           ("F4:rpo", "F6:rpo")),
    Policy("classic_queues",
           "§1: per-domain durable queues; no replicated queue type is named",
           "quorum queues, replicated on the three nodes (system/broker.py)",
           ("F4:rpo", "F4:rto", "F6:rpo", "F6:rto")),
    Policy("wal_unchecked",
           "§6 F9: a corrupted local WAL is listed with no way to notice it and no recovery; SQLite itself "
           "drops commits past a damaged -wal frame without an error",
           "a commit count kept outside the -wal, compared at start: the WALCorruption alert, and the rows "
           "the lost commits completed rebuilt from ecoeco_waste (system/workers/wal.py CommitCount, rebuild.py)",
           ("F9:rpo", "F9:detection")),
    Policy("no_idempotency",
           "§6: republishing while the original is still queued runs a task twice unless consumers are "
           "idempotent; the document does not make them so",
           "stages skip work already in the WAL and results are keyed by task id (system/workers/stage.py)",
           ("F4:exactly_once", "F7:exactly_once", "F8:exactly_once")),
)
# fmt: on

# what replaces the design's five alert rules: one per failure point, on metrics that exist
ALERT_FIX = (
    "an alert per failure point on metrics that exist (system/monitoring/rules): rabbitmq_up is not "
    'exported (sum(up{job="rabbitmq"}) == 0 is), a worker that runs but does not consume counts as down'
)

UNSAFE = ",".join(p.option for p in POLICIES)
ALERT_RULES = "design"  # system/monitoring/rules-design: the document's alert rules, verbatim
# auth_via_db needs a DSN of ecoeco_auth in waste-api and chat-llm-api (harness.config.resolve fills it)
AUTH_DSN = "{dsn:auth_api}"

_unknown = {p.option for p in POLICIES} - UNSAFE_OPTIONS
if _unknown:
    raise ValueError(f"as-written policies name unknown options: {sorted(_unknown)}")


RULES_DESIGN = Path(__file__).resolve().parent / "monitoring" / "rules-design"


@cache
def design_alerts() -> frozenset[str]:
    """The names of the design's own alert rules (the ones an as-written run has)."""
    return frozenset(
        m.group(1)
        for tmpl in RULES_DESIGN.glob("*.yml.tmpl")
        for m in re.finditer(r"^\s*- alert: (\w+)", tmpl.read_text(encoding="utf-8"), re.MULTILINE)
    )
