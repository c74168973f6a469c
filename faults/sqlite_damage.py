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


def truncate_half(wal: Path) -> str:
    """Cut the WAL to half its size: every frame past the cut (and its commits) is gone."""
    size = wal.stat().st_size
    os.truncate(wal, size // 2)
    return f"truncated {wal.name} from {size} to {size // 2} bytes"


def delete(wal: Path) -> str:
    """Remove the WAL: every commit not yet checkpointed is gone."""
    wal.unlink()
    return f"deleted {wal.name}"


def flip_frame_byte(wal: Path, frame: int | None = None) -> str:
    """Invert one byte of a frame's page (a middle frame by default): its checksum and all later frames fail."""
    data = bytearray(wal.read_bytes())
    page_size = int.from_bytes(data[8:12], "big")
    frames = (len(data) - WAL_HEADER_BYTES) // (FRAME_HEADER_BYTES + page_size) if page_size else 0
    if frames < 1:
        raise ValueError(f"{wal.name} holds no complete frame ({len(data)} bytes)")
    index = frames // 2 if frame is None else frame
    if not 0 <= index < frames:
        raise ValueError(f"{wal.name} has {frames} frames, no frame {index}")
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
