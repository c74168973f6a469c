"""Valid images built in code, so uploads need no fixture files: tiny PNGs for probes, and
photo-sized PNGs and JPEGs for the workload."""

from __future__ import annotations

import io
import math
import random
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


# Photos as users upload them: tens of KiB up to near waste-api's 1 MiB limit, log-uniform
# (phone pictures resized by an app land anywhere in that range).
PHOTO_BYTES = (20 * 1024, 1000 * 1024)


def photo_png(size_bytes: int, seed: int) -> bytes:
    """A valid RGB PNG of about `size_bytes` (noise pixels barely compress, like a photo)."""
    rng = random.Random(seed)
    side = max(8, int(math.sqrt(size_bytes / 3)))
    rows = b"".join(b"\x00" + rng.randbytes(3 * side) for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 1)) + _chunk(b"IEND", b"")


def photo_jpeg(size_bytes: int, seed: int) -> bytes:
    """A baseline JPEG of about `size_bytes` (Pillow, quality 90): encoded once at a first guess of
    the bytes a noise pixel takes, then once more at the side that ratio calls for."""
    from PIL import Image  # imported here: only the load needs it

    rng = random.Random(seed)

    def encode(side: int) -> bytes:
        image = Image.frombytes("RGB", (side, side), rng.randbytes(3 * side * side))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90)
        return out.getvalue()

    guess = max(8, int(math.sqrt(size_bytes / 0.9)))  # noise at quality 90: ~0.9 bytes a pixel
    first = encode(guess)
    return encode(max(8, int(guess * math.sqrt(size_bytes / len(first)))))


def photo_pool(count: int, seed: int = 0, size_range: tuple[int, int] = PHOTO_BYTES) -> list[tuple[str, bytes, str]]:
    """`count` photos (file name, bytes, content type), sizes log-uniform in `size_range`, half
    PNG and half JPEG; made once per process, then reused (each upload has its own task id)."""
    rng = random.Random(seed)
    low, high = (math.log(b) for b in size_range)
    pool = []
    for i in range(count):
        size = int(math.exp(rng.uniform(low, high)))
        if i % 2:
            pool.append((f"photo-{i}.jpg", photo_jpeg(size, seed + i), "image/jpeg"))
        else:
            pool.append((f"photo-{i}.png", photo_png(size, seed + i), "image/png"))
    return pool
