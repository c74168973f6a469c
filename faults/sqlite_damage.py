"""Byte-level damage to SQLite files (pure file operations, no Docker): each returns what it did."""

from __future__ import annotations

import hashlib
import os
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
    while page_size and offset + frame_bytes <= len(data) and data[offset + 8:offset + 16] == salts:
        if int.from_bytes(data[offset + 4:offset + 8], "big"):  # commit frame: db size after commit
            ends.append(offset + frame_bytes)
        offset += frame_bytes
    return page_size, ends


def truncate_half(wal: Path) -> str:
    """Cut the live WAL after half its commits: every later commit is gone, silently."""
    data = wal.read_bytes()
    _, ends = live_commits(data)
    if len(ends) < 2:
        raise ValueError(f"{wal.name} holds {len(ends)} live commit(s): nothing a cut could lose")
    cut = ends[len(ends) // 2 - 1]
    os.truncate(wal, cut)
    return (f"truncated {wal.name} from {len(data)} to {cut} bytes: kept {len(ends) // 2} of "
            f"{len(ends)} live commits")


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
    data[start:start + page_size] = b"\xa5" * page_size
    db.write_bytes(bytes(data))
    return f"overwrote page {page} of {db.name} ({page_size} bytes)"
