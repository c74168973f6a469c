"""The spec's WAL recovery script, run inside a worker container:

    docker compose exec worker-storage python3 -m system.ops.wal_recover [--timeout-drop]

Checkpoint, count unfinished rows, republish them (confirmed) to their stage's queue. The
spec's "time out rows older than an hour" is opt-in (--timeout-drop): it drops work.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from system import settings as settings_mod
from system.broker import PIPELINE_QUEUES, PIPELINE_STAGES, BrokerUnavailable, Publisher
from system.workers.recovery import recover_on_startup
from system.workers.wal import WAL

QUEUE_OF = dict(zip(PIPELINE_STAGES, PIPELINE_QUEUES, strict=True))


def main(argv: list[str]) -> int:
    """Run one recovery pass and print what it did."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout-drop", action="store_true", help="spec policy: time out rows older than 1 h")
    args = parser.parse_args(argv)
    settings = settings_mod.get()
    if args.timeout_drop:
        settings = dataclasses.replace(settings, unsafe=settings.unsafe | {"timeout_drop"})
    wal = WAL(settings.wal_path)
    print(f"{len(wal.unfinished())} unfinished rows in {settings.wal_path}")
    try:
        report = recover_on_startup(wal, settings, QUEUE_OF, Publisher(settings).publish)
    except BrokerUnavailable as exc:
        print(f"error: {exc}; the rows stay unfinished, run again when RabbitMQ answers", file=sys.stderr)
        return 1
    print(
        f"checkpoint (busy, log, checkpointed) = {report.checkpoint}; republished {report.republished}; "
        f"timed out {report.timed_out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
