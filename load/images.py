"""Tiny valid PNG images built in code, so uploads need no fixture files."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(rgb: tuple[int, int, int] = (40, 160, 60), side_px: int = 8) -> bytes:
    """A solid-colour RGB PNG of side_px x side_px pixels (about 80 bytes)."""
    header = struct.pack(">IIBBBBB", side_px, side_px, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    row = b"\x00" + bytes(rgb) * side_px  # filter type 0 per scanline
    return (
        PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(row * side_px)) + _chunk(b"IEND", b"")
    )
