"""One run per compose project at a time: a second one would tear down the first one's stack.

The lock is an flock on .runtime/<project>.lock, held for the whole session and released by the
kernel when the process ends, however it ends (kill -9 included): nothing stale to clean up.
scripts/chaos.sh and scripts/test.sh take it before anything else (their cleanup trap must not
run for a refused second run) and tell pytest so (ECOECO_RUN_LOCK_HELD=1).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from harness.config import REPO_ROOT

HELD_ENV = "ECOECO_RUN_LOCK_HELD"


class RunLocked(RuntimeError):
    """Another run of the same project holds the lock."""


def lock_path(project: str) -> Path:
    """The lock file of a project."""
    return REPO_ROOT / ".runtime" / f"{project}.lock"


def acquire(project: str) -> IO[str] | None:
    """Take the project's lock (None when the calling script already holds it); RunLocked if taken."""
    if os.environ.get(HELD_ENV) == "1":
        return None
    path = lock_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunLocked(
            f"another run of project {project!r} is going on ({holder}); wait for it, or use "
            f"another ECOECO_PROJECT and ECOECO_PORT_PREFIX"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle
