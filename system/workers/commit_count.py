"""The WAL's commit count, kept outside SQLite's -wal so a damaged -wal cannot hide its own loss.

SQLite reads a truncated or corrupt -wal up to the last intact frame and drops every commit after
it without an error; `integrity_check` still says ok (F9). So every WAL transaction counts itself
in a `wal_meta` row and, once committed, writes the count to `task_queue.db.commits`. At start a
database behind that file has lost commits.

The file is written after the commit, never before: it can lag the database (a crash between the
two, or a power loss before the page cache reached the disk, since it is not fsynced) and then
hides a loss, but it can never claim one that did not happen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_FORMAT = "{:020d} {:020.6f}\n"  # fixed width: one pwrite rewrites it in place
_SIZE = len(_FORMAT.format(0, 0.0))


@dataclass(frozen=True)
class LostCommits:
    """Commits the file counted and the database no longer holds, and when they happened."""

    count: int
    after: float  # the last commit the database still holds (0: none)
    until: float  # the last commit the file saw


class CommitCount:
    """task_queue.db.commits: the last commit count and time, rewritten after each commit."""

    def __init__(self, path: str) -> None:
        self.path = path
        # O_NOFOLLOW: a link planted in the volume is refused rather than written through
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)

    def read(self) -> tuple[int, float] | None:
        """(count, time) as last written; None for a new or unreadable file."""
        raw = os.pread(self._fd, _SIZE, 0).decode("ascii", "replace").split()
        try:
            return int(raw[0]), float(raw[1])
        except (IndexError, ValueError):
            return None

    def write(self, count: int, at: float) -> None:
        """Record that the database now holds `count` commits, the last at `at`."""
        os.pwrite(self._fd, _FORMAT.format(count, at).encode("ascii"), 0)

    def close(self) -> None:
        os.close(self._fd)


def lost(held: tuple[int, float], counted: tuple[int, float] | None) -> LostCommits | None:
    """What the database (`held`: count, time) lost against the file (`counted`), if anything."""
    if counted is None or counted[0] <= held[0]:
        return None
    return LostCommits(counted[0] - held[0], held[1], counted[1])
