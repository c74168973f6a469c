"""Every service's log lines of a scenario that did not hold, kept beside its record, and the
error lines among them in the record itself.

A VIOLATED or INCONCLUSIVE verdict is a claim about the system, and its reader's first question
is what the services said meanwhile (a broker node that failed to boot, a worker that stalled).
The stack is removed at the end of the session, its logs with it, and a CI log keeps only what
pytest prints: so the files are copied now and the error lines travel with the verdict.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from faults.target import Project, service_of

log = logging.getLogger(__name__)

MAX_BYTES = 2_000_000  # per container: the end of a runaway log is the part that matters
PER_SERVICE = 4  # error lines kept in the record per service
# Python's logging (" ERROR ", " CRITICAL "), RabbitMQ's ("[error]", "BOOT FAILED"), PostgreSQL's
# ("FATAL:", "PANIC:", "ERROR:"), and a traceback's head.
_ERROR = re.compile(r" (ERROR|CRITICAL) |\[(error|critical)\]|BOOT FAILED|\b(FATAL|PANIC|ERROR):|^Traceback")
_GRAVE = re.compile(r"BOOT FAILED|\b(FATAL|PANIC|CRITICAL)\b|\[critical\]|^Traceback|crash", re.IGNORECASE)
_VARIABLE = re.compile(r"<[\d.]+>|'[^']*'|[\d.:]+")  # Erlang pids, quoted names, addresses, numbers
_STAMPED = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")  # the service's own timestamp leads the line


def error_lines(text: str, limit: int = PER_SERVICE) -> list[str]:
    """The first `limit` distinct error messages, the gravest first (a failed boot, a fatal or
    critical one, a traceback), each once with how often it came. A message is known by its first
    words with numbers, addresses and quoted names blanked, so a hundred refused connections do not
    crowd out the one boot that failed; the continuation lines of a multi-line message (RabbitMQ
    repeats its timestamp on each) are skipped."""
    first: dict[str, tuple[int, int, str]] = {}  # key -> (gravity, order, line)
    count: dict[str, int] = {}
    last_stamp = None
    for line in text.splitlines():
        body = line.split(" ", 1)[1] if " " in line else line  # after Docker's own timestamp
        if not _ERROR.search(body):
            continue
        stamp = body[:26] if _STAMPED.match(body) else None
        if stamp is not None and stamp == last_stamp:
            continue
        last_stamp = stamp
        key = " ".join(_VARIABLE.sub("#", body[26:]).split()[:7])
        if key not in first:
            first[key] = (0 if _GRAVE.search(body) else 1, len(first), line[:240])
        count[key] = count.get(key, 0) + 1
    ranked = sorted(first.items(), key=lambda kv: kv[1][:2])[:limit]
    return [line + (f" (x{count[k]})" if count[k] > 1 else "") for k, (_, _, line) in ranked]


def keep_logs(targets: Project, folder: Path, since_unix: float) -> dict[str, list[str]]:
    """Write <container>.log (with Docker's timestamps, from `since_unix`) for each container of
    the project into `folder`; returns service -> the first error lines of its containers, for
    every service written. Never raises: it is evidence, not a step."""
    kept: dict[str, list[str]] = {}
    try:
        containers = targets.all_containers()
        folder.mkdir(parents=True, exist_ok=True)
    except Exception as exc:
        log.warning("could not keep the services' logs: %s", exc)
        return kept
    for c in containers:
        service = service_of(c)
        try:
            raw = c.logs(timestamps=True, since=int(since_unix) - 1)[-MAX_BYTES:]
            (folder / f"{c.name}.log").write_bytes(raw)
        except Exception as exc:
            log.warning("could not keep the logs of %s: %s", c.name, exc)
            continue
        kept[service] = kept.get(service, []) + error_lines(raw.decode(errors="replace"))
    return dict(sorted(kept.items()))
