"""Make a real SQLite WAL-mode database whose newest commits live only in the -wal file."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

# The writer exits without closing (like a killed worker): a clean close would checkpoint the
# WAL into the database and delete it, leaving nothing to damage.
_WRITER = """
import os, sqlite3, sys
db, checkpointed, in_wal = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=FULL")
conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("CREATE TABLE task_wal (task_id TEXT PRIMARY KEY, payload TEXT, status TEXT)")
def add(i):
    conn.execute("INSERT INTO task_wal VALUES (?, ?, 'pending')", (f"task-{i:04d}", "x" * 200))
for i in range(checkpointed):
    add(i)
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
for i in range(checkpointed, checkpointed + in_wal):
    add(i)  # one commit each, only in the WAL
os._exit(0)
"""


def make_wal_db(db: Path, checkpointed: int, in_wal: int) -> None:
    """Create `db` with `checkpointed` rows in the main file and `in_wal` more committed to the WAL only."""
    subprocess.run([sys.executable, "-c", _WRITER, str(db), str(checkpointed), str(in_wal)], check=True, timeout=60)


def read_back(db: Path) -> tuple[int | None, str]:
    """(rows in task_wal or None if unreadable, integrity_check's answer) read from a copy of db + -wal.

    A copy, because closing the last connection checkpoints the WAL into the database and deletes it.
    """
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / db.name
        shutil.copyfile(db, copy)
        if Path(f"{db}-wal").exists():
            shutil.copyfile(f"{db}-wal", f"{copy}-wal")
        conn = sqlite3.connect(copy)
        try:
            try:
                rows: int | None = int(conn.execute("SELECT count(*) FROM task_wal").fetchone()[0])
            except sqlite3.DatabaseError:
                rows = None
            try:
                check = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
            except sqlite3.DatabaseError as exc:
                check = f"error: {exc}"
            return rows, check
        finally:
            conn.close()
