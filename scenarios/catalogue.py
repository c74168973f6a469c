"""F1-F17 as records: how each failure point is produced on the running stack, and what its run
must show. One table; `pytest -m chaos`, `pytest -m controls` and the reports all read it.

The claims themselves (RTO, RPO, impact, alert) come from the design (core/claims.py). Outage
lengths are real seconds: at the suite's time scale (0.02) 10 s stand for about 8 minutes of
design time, longer than every backoff step but the capped one. A harsher mode of a failure
point ("kill", "freeze") is a record of its own, with its own name (F11-kill).

`defects` names the planted defects (scenarios/defects.py) each record must catch with exactly
this plan, and the judgement that must say VIOLATED; the same plan on the safe build must hold.
"""

from __future__ import annotations

from dataclasses import replace

from core import findings
from core.counters import CounterSpec
from core.point import CHECKERS, FailurePoint, FaultSpec, all_of
from harness import observe
from system import topology

OUTAGE_S = 10.0
# A crash loop needs less: Docker's restart delay doubles with every kill (100 ms, 200 ms, ...), so
# after 6 s of kills the service stays down another ~6 s before it runs again, well past the 5 s an
# alert needs to see it.
CRASH_LOOP_S = 6.0
CRASH_OBSERVE_S = 5.0  # after a SIGKILL the restart policy repairs; hold to observe it (>= 25 probes a domain)
STALL_S = 3.0  # a broker's stall before it is killed (F6): publishes accumulate unread meanwhile
# Longer than the spec's sync give-up (10 attempts: 51 min of design time, 61 s at 0.02) and than
# its one-hour task timeout (72 s at 0.02): the outages where the design's own policies lose work.
LONG_OUTAGE_S = 75.0

NODES = topology.load().broker_nodes
PIPELINE_QUEUES = (
    "queue:user_input_queue",
    "queue:vision_analysis_queue",
    "queue:rule_retrieval_queue",
    "queue:response_generation_queue",
)


def _retried(worker: str) -> CounterSpec:
    return CounterSpec(worker, "wal_retried_tasks_total", what="retry_queue entries completed and forwarded")


SYNC_FAILED = CounterSpec("worker-ai", "wal_sync_failures_total", what="failed WAL -> ecoeco_waste sync batches")
SYNC_RETRIED = CounterSpec("worker-ai", "wal_sync_retried_rows_total", what="rows synced after a failed attempt")
RELAYED = CounterSpec("waste-api", "outbox_relayed_total", what="uploads the outbox relay published later")
# A SIGKILLed database is back in under a second: too short for any alert window or a probe to
# see, so its mode judges durability and isolation, and leaves RTO and detection to the main mode.
DURABILITY = tuple(c for c in CHECKERS if c not in ("rto", "detection"))

# fmt: off
_RECORDS: tuple[FailurePoint, ...] = (
    # API crashes: the service is SIGKILLed under load (requests in flight), and again whenever it
    # comes back, for the outage; only its restart policy may repair it. RTO from the last kill.
    FailurePoint("F1", FaultSpec("crash_loop", {"service": "waste-api"}), CRASH_LOOP_S, ("waste",),
                 self_repair=True, defects={"restart_policy_no": "self_repair"}),
    FailurePoint("F2", FaultSpec("crash_loop", {"service": "auth-api"}), CRASH_LOOP_S, ("auth",),
                 self_repair=True),
    FailurePoint("F3", FaultSpec("crash_loop", {"service": "chat-llm-api"}), CRASH_LOOP_S, ("chat",),
                 self_repair=True),
    # The whole cluster stopped for the outage; uploads meanwhile wait in waste-api's outbox.
    FailurePoint("F4", FaultSpec("stop", {"services": NODES}), OUTAGE_S, ("pipeline",),
                 strikes=PIPELINE_QUEUES, exercises=(RELAYED,),
                 defects={"direct_publish": "isolation", "outbox_marks_failed": "upload:rpo"}),
    # Frozen, not stopped: every client hangs until its own timeouts notice. Publishes hang rather
    # than fail, so uploads wait in waste-api's hand-over (and its outbox) instead of being relayed.
    FailurePoint("F4", FaultSpec("pause", {"services": NODES}), OUTAGE_S, ("pipeline",), mode="freeze",
                 strikes=PIPELINE_QUEUES),
    # vision_analysis_queue blocked (nobody may consume it; it keeps filling), and poison messages
    # sent through the queue before it: acknowledged work waits, poison is dead-lettered, nothing
    # acknowledged is.
    FailurePoint("F5", all_of(FaultSpec("poison", {"queues": ("user_input_queue",), "count": 3}),
                              FaultSpec("deny_queue", {"queue": "vision_analysis_queue"})),
                 OUTAGE_S, ("pipeline",), strikes=("queue:vision_analysis_queue",)),
    # Every node stalls for a moment (publishes pile up unread in its socket buffers, unconfirmed),
    # then is SIGKILLed: a broker that hangs before it dies. What was not on disk is gone, and only
    # a publisher that waits for confirms knows which messages never arrived. (A graceful stop,
    # F4, writes out even what was never confirmed; a kill of a broker that kept up loses too
    # little, too rarely, to show.)
    FailurePoint("F6", all_of(FaultSpec("pause", {"services": NODES}),
                              FaultSpec("crash_at_heal", {"services": NODES, "await_restart": False})),
                 STALL_S, ("pipeline",), strikes=PIPELINE_QUEUES,
                 defects={"transient_delivery+classic_queues": "upload:rpo", "no_confirms": "upload:rpo"}),
    # Worker crashes: killed on every start for the outage, then once more while it consumes the
    # backlog the outage left (prefetched, in hand, completed but not yet acknowledged).
    FailurePoint("F7", FaultSpec("crash_loop", {"service": "worker-storage", "busy": True}), CRASH_LOOP_S,
                 ("pipeline",), strikes=("queue:user_input_queue", "queue:rule_retrieval_queue", "wal:worker-storage"),
                 exercises=(observe.replayed_rows("worker-storage"),), self_repair=True,
                 defects={"republish_once+ack_before_wal": "upload:rpo"}),
    FailurePoint("F8", FaultSpec("crash_loop", {"service": "worker-ai", "busy": True}), CRASH_LOOP_S, ("pipeline",),
                 strikes=("queue:vision_analysis_queue", "queue:response_generation_queue", "wal:worker-ai"),
                 exercises=(observe.replayed_rows("worker-ai"),), self_repair=True,
                 defects={"ack_before_wal": "upload:rpo", "no_idempotency": "upload:exactly_once"}),
    # worker-storage killed, its task_queue.db-wal cut among the commits not yet checkpointed,
    # started again. The worker is back within a second, too soon for a probe to see a gap: the
    # claim under test is the WAL's (nothing committed is lost), not a recovery time.
    # What it strikes are commits not yet checkpointed, which the fault itself finds (it refuses to
    # cut when there are none); the places watched for work in flight are all of them.
    FailurePoint("F9", FaultSpec("corrupt_wal", {"service": "worker-storage", "mode": "truncate"}), CRASH_OBSERVE_S,
                 ("pipeline",), audits=("wal_rows_kept",), checkers=tuple(c for c in CHECKERS if c != "rto"),
                 defects={"wal_unchecked": "detection WALCorruption"}),
    # Both workers cut from ecoeco_waste (the broker and S3 stay reachable): results wait in the WALs.
    FailurePoint("F10", FaultSpec("cut_link", {"sources": ("worker-storage", "worker-ai"),
                                               "destination": "pg-waste", "probe_port": 5432}),
                 OUTAGE_S, ("pipeline",), strikes=("wal:worker-ai",), symptoms=(SYNC_FAILED,),
                 exercises=(SYNC_RETRIED,), defects={"sync_marks_refused": "upload:rpo"}),
    # Long enough for the spec's sync schedule to give up (10 attempts by 51 min of design time).
    FailurePoint("F10", FaultSpec("cut_link", {"sources": ("worker-storage", "worker-ai"),
                                               "destination": "pg-waste", "probe_port": 5432}),
                 LONG_OUTAGE_S, ("pipeline",), mode="long", strikes=("wal:worker-ai",), symptoms=(SYNC_FAILED,),
                 exercises=(SYNC_RETRIED,), defects={"sync_gives_up": "upload:rpo"}),
    # The sync's statements run, its COMMITs are refused (a serialization failure, as SERIALIZABLE
    # or a deferred constraint gives): rows a worker counts as synced before COMMIT returned are
    # lost. A cut link or a killed server meets that window of milliseconds only by chance.
    FailurePoint("F10", FaultSpec("refuse_commits", {"service": "pg-waste", "tables": ("task_stages",)}),
                 OUTAGE_S, ("pipeline",), mode="commit", strikes=("wal:worker-ai",), symptoms=(SYNC_FAILED,),
                 exercises=(SYNC_RETRIED,), defects={"sync_marks_before_commit": "upload:rpo"}),
    FailurePoint("F11", FaultSpec("stop", {"services": ("pg-waste",)}), OUTAGE_S, ("waste", "pipeline"),
                 symptoms=(SYNC_FAILED,), exercises=(SYNC_RETRIED,), defects={"queue_without_task_row": "upload:rpo"}),
    # The postmaster SIGKILLed with commits in flight (crash recovery, not a clean shutdown), four
    # times: at the injection, then three times two seconds after it serves again, while the writes
    # that waited (the workers' result sync, new uploads) pour in. One kill meets ~200 ms of commits.
    FailurePoint("F11", FaultSpec("crash_loop", {"service": "pg-waste", "busy": True, "loop": False,
                                                 "busy_kills": 3, "busy_s": 2.0}), CRASH_OBSERVE_S,
                 ("waste", "pipeline"), mode="kill", checkers=DURABILITY, defects={"pg_sync_commit_off": "upload:rpo"}),
    FailurePoint("F12", FaultSpec("stop", {"services": ("pg-auth",)}), OUTAGE_S, ("auth", "userinfo"),
                 defects={"auth_via_db": "isolation"}),
    FailurePoint("F12", FaultSpec("crash", {"services": ("pg-auth",)}), CRASH_OBSERVE_S, ("auth", "userinfo"),
                 mode="kill", checkers=DURABILITY),
    # Every connection slot of ecoeco_waste taken, and the connections the services hold reset,
    # so that they must ask for one and be refused.
    FailurePoint("F13", FaultSpec("exhaust_pool", {"service": "pg-waste", "reset_clients": (
                     "waste-api", "recycle-api", "worker-storage", "worker-ai")}), OUTAGE_S, ("waste",)),
    # ecoeco_waste's data disk and worker-ai's WAL disk both full (each its own ext4, harness/disks.py)
    FailurePoint("F14", FaultSpec("fill_disk", {"volumes": {"pg-waste-data": 1024 * 1024 * 1024,
                                                            "wal-ai": 128 * 1024 * 1024}}),
                 OUTAGE_S, ("waste", "pipeline"), strikes=("wal:worker-ai",),
                 # both must refuse writes: a WAL write the worker could fit into room its files
                 # already held would leave the path that handles a failed one untried
                 symptoms=(CounterSpec("waste-api", "http_requests_total", {"route": "/tasks", "status": "503"},
                                       what="uploads refused while ecoeco_waste cannot write"),
                           CounterSpec("worker-ai", "wal_write_errors_total", what="WAL writes refused")),
                 defects={"ack_on_wal_error": "upload:rpo"}),
    FailurePoint("F15", FaultSpec("gpt_outage", {"family": "gpt5", "mode": "error"}), OUTAGE_S, ("pipeline",),
                 strikes=("queue:vision_analysis_queue", "wal:worker-ai"),
                 symptoms=(CounterSpec("worker-ai", "gpt5_api_errors_total", what="failed GPT-5 calls"),),
                 exercises=(_retried("worker-ai"),)),
    # GPT-5 down for more than the design's one-hour task timeout, and worker-ai restarted by a
    # crash before it comes back: the retries it holds must survive the restart.
    FailurePoint("F15", all_of(FaultSpec("gpt_outage", {"family": "gpt5", "mode": "error"}),
                               FaultSpec("crash_at_heal", {"service": "worker-ai"})),
                 LONG_OUTAGE_S, ("pipeline",), mode="long", strikes=("queue:vision_analysis_queue", "wal:worker-ai"),
                 symptoms=(CounterSpec("worker-ai", "gpt5_api_errors_total", what="failed GPT-5 calls"),),
                 exercises=(_retried("worker-ai"),), defects={"timeout_drop": "upload:rpo"}),
    FailurePoint("F16", FaultSpec("gpt_outage", {"family": "gpt4o-mini", "mode": "error"}), OUTAGE_S,
                 ("pipeline", "chat"), strikes=("queue:response_generation_queue", "wal:worker-ai"),
                 symptoms=(CounterSpec("worker-ai", "gpt4o_mini_api_errors_total", what="failed GPT-4o mini calls"),),
                 exercises=(_retried("worker-ai"),)),
    # S3 frozen (what it stored stays stored); every acknowledged image must be in S3 afterwards.
    FailurePoint("F17", FaultSpec("s3_outage", {"how": "pause"}), OUTAGE_S, ("pipeline",),
                 strikes=("queue:user_input_queue", "wal:worker-storage"), audits=("s3_objects",),
                 symptoms=(CounterSpec("worker-storage", "s3_errors_total", what="failed S3 uploads"),),
                 exercises=(_retried("worker-storage"),), defects={"s3_error_ignored": "upload:rpo"}),
)
# fmt: on

# The known-false judgements live in accepted-findings.toml, the one file a pipeline edits.
ACCEPTED = findings.load()
POINTS = tuple(replace(p, known_false=findings.known_false(p.id, ACCEPTED)) for p in _RECORDS)
_unknown = {fid for fid, _ in ACCEPTED} - {p.id for p in POINTS}
if _unknown:
    raise findings.FindingsError(f"accepted findings name unknown failure points: {sorted(_unknown)}")

# What an as-written run (--as-written) runs by default: every row of the design's table (F1, F2,
# F4, F7, F8, F11, F12, F15), and the weak spots of its section 6 at the outage lengths that reach
# their thresholds (F6, F9, F10-long, F15-long: one hour, ten sync attempts); about 15 minutes here.
# `-k` picks any other point (the general claims cover them too); every one has no design alert,
# which the claims lint shows without a run.
AS_WRITTEN_PLAN = ("F1", "F2", "F4", "F6", "F7", "F8", "F9", "F10-long", "F11", "F12", "F15-long")

_BY_ID = {p.id: p for p in POINTS}
IDS = tuple(p.id for p in POINTS)
if set(AS_WRITTEN_PLAN) - set(IDS):
    raise KeyError(f"AS_WRITTEN_PLAN names unknown points: {sorted(set(AS_WRITTEN_PLAN) - set(IDS))}")


def point(point_id: str) -> FailurePoint:
    """The record of one failure point or mode ("F7", "F11-kill"); KeyError lists the known ones."""
    try:
        return _BY_ID[point_id]
    except KeyError:
        raise KeyError(f"unknown failure point {point_id!r}; known: {', '.join(IDS)}") from None
