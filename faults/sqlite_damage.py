"""Byte-level damage to SQLite files (pure file operations, no Docker): each returns what it did."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

WAL_HEADER_BYTES, FRAME_HEADER_BYTES = 32, 24


def fingerprint(path: Path) -> tuple[int, str] | None:
    """(size, sha256 prefix) of a file, None if it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return len(data), hashlib.sha256(data).hexdigest()[:16]


def live_commits(data: bytes) -> tuple[int, list[int]]:
    """(page size, end offsets of the commit frames) of the WAL's live frames.

    SQLite reuses the -wal file after a checkpoint: frames are live only while their salts match
    the header's; the stale tail of an earlier, longer WAL is ignored by SQLite and by us.
    """
    if len(data) < WAL_HEADER_BYTES:
        return 0, []
    page_size = int.from_bytes(data[8:12], "big")
    salts = data[16:24]
    frame_bytes = FRAME_HEADER_BYTES + page_size
    ends: list[int] = []
    offset = WAL_HEADER_BYTES
    while page_size and offset + frame_bytes <= len(data) and data[offset + 8 : offset + 16] == salts:
        if int.from_bytes(data[offset + 4 : offset + 8], "big"):  # commit frame: db size after commit
            ends.append(offset + frame_bytes)
        offset += frame_bytes
    return page_size, ends


def unsaved_frames(shm: Path) -> int:
    """Frames in the WAL not yet copied into the database, from a live -shm (mxFrame - nBackfill;
    native byte order). 0 when there is no -shm."""
    try:
        data = shm.read_bytes()[:100]
    except FileNotFoundError:
        return 0
    if len(data) < 100:
        return 0
    return max(0, int.from_bytes(data[16:20], "little") - int.from_bytes(data[96:100], "little"))


def backfilled_frames(shm: Path) -> int:
    """Frames of the WAL already copied into the database (nBackfill of the -shm's checkpoint info;
    the -shm is in native byte order). 0 when there is no -shm."""
    try:
        data = shm.read_bytes()
    except FileNotFoundError:
        return 0
    return int.from_bytes(data[96:100], "little") if len(data) >= 100 else 0


def truncate_half(wal: Path, shm: Path | None = None) -> str:
    """Cut the live WAL after half the commits not yet checkpointed (all live commits without a
    -shm): every later commit is gone, silently. Commits already copied into the database would
    survive any cut, so cutting among them would test nothing."""
    data = wal.read_bytes()
    page_size, ends = live_commits(data)
    saved = backfilled_frames(shm) if shm is not None else 0
    frame_bytes = FRAME_HEADER_BYTES + page_size
    unsaved = [e for e in ends if (e - WAL_HEADER_BYTES) // frame_bytes > saved] if page_size else []
    if not unsaved:
        raise ValueError(
            f"{wal.name}: all {len(ends)} live commits are checkpointed ({saved} frames): nothing a cut could lose"
        )
    keep = len(unsaved) // 2  # of the unsaved commits, keep the older half
    cut = unsaved[keep - 1] if keep else WAL_HEADER_BYTES + saved * frame_bytes
    os.truncate(wal, cut)
    return (
        f"truncated {wal.name} from {len(data)} to {cut} bytes: cut {len(unsaved) - keep} of the {len(unsaved)} "
        f"commits not yet checkpointed ({len(ends)} live, {saved} frames checkpointed)"
    )


def delete(wal: Path) -> str:
    """Remove the WAL: every commit not yet checkpointed is gone."""
    wal.unlink()
    return f"deleted {wal.name}"


def flip_frame_byte(wal: Path, frame: int | None = None) -> str:
    """Invert one byte of a frame's page (a middle frame by default): its checksum and all later frames fail."""
    data = bytearray(wal.read_bytes())
    page_size, ends = live_commits(bytes(data))
    frames = (ends[-1] - WAL_HEADER_BYTES) // (FRAME_HEADER_BYTES + page_size) if ends else 0
    if frames < 1:
        raise ValueError(f"{wal.name} holds no live frame ({len(data)} bytes)")
    index = frames // 2 if frame is None else frame
    if not 0 <= index < frames:
        raise ValueError(f"{wal.name} has {frames} live frames, no frame {index}")
    offset = WAL_HEADER_BYTES + index * (FRAME_HEADER_BYTES + page_size) + FRAME_HEADER_BYTES + page_size // 2
    data[offset] ^= 0xFF
    wal.write_bytes(bytes(data))
    return f"flipped byte {offset} in frame {index} of {frames}"


def damage_page(db: Path, page: int = 2) -> str:
    """Overwrite one page of the main database (page 2: the root of the first table) with garbage."""
    data = bytearray(db.read_bytes())
    raw = int.from_bytes(data[16:18], "big")
    page_size = 65536 if raw == 1 else raw  # the header stores 64 KiB as 1
    start = (page - 1) * page_size
    if page < 1 or page_size == 0 or start + page_size > len(data):
        raise ValueError(f"{db.name} has no page {page} ({len(data)} bytes, page size {page_size})")
    data[start : start + page_size] = b"\xa5" * page_size
    db.write_bytes(bytes(data))
    return f"overwrote page {page} of {db.name} ({page_size} bytes)"


def rows_of_copy(db: Path, wal: Path) -> dict[str, set[tuple[object, ...]]]:
    """Every row of every table, as SQLite reads the database with this WAL: both files are
    copied into a temporary directory first, so the originals (and their -shm) are never touched."""
    with tempfile.TemporaryDirectory(prefix="wal-rows-") as workdir:
        copy = Path(workdir) / db.name
        shutil.copyfile(db, copy)
        if wal.exists():
            shutil.copyfile(wal, Path(f"{copy}-wal"))
        conn = sqlite3.connect(copy)
        try:
            tables = [str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {t: set(conn.execute(f'SELECT * FROM "{t}"')) for t in tables}
        finally:
            conn.close()


def rows_dropped(
    before: dict[str, set[tuple[object, ...]]], after: dict[str, set[tuple[object, ...]]]
) -> dict[str, list[tuple[object, ...]]]:
    """Per table, the rows committed before that the damaged files no longer hold as they were
    (gone, or back to an earlier version)."""
    return {t: sorted(rows - after.get(t, set()), key=repr) for t, rows in before.items() if rows - after.get(t, set())}
