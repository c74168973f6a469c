"""Append-only JSON-lines history of client operations (invoke, then ok / fail / info)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Literal

OpType = Literal["invoke", "ok", "fail", "info"]
OpFunction = Literal["upload", "chat", "register", "profile"]

# Small lines stay whole when several processes append to one file at once.
MAX_ERROR_CHARS = 500


class Ledger:
    """One JSON line per call in a single O_APPEND write: safe across greenlets and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def record(
        self,
        process: str,
        op_type: OpType,
        f: OpFunction,
        op_id: str,
        error: str | None = None,
        time_s: float | None = None,
    ) -> None:
        """Append one operation line; `error` is kept short."""
        if self._fd is None:
            raise ValueError(f"ledger {self.path} is closed")
        line = {
            "time": time.time() if time_s is None else time_s,
            "process": process,
            "type": op_type,
            "f": f,
            "id": op_id,
            "error": None if error is None else error[:MAX_ERROR_CHARS],
        }
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        written = os.write(self._fd, data)
        if written != len(data):
            # A short write would leave half a line for the next writer to glue onto.
            raise OSError(f"short write to ledger {self.path}: {written} of {len(data)} bytes")

    def close(self) -> None:
        """Close the file; later calls are no-ops."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_ops(path: str | Path) -> list[dict[str, Any]]:
    """All operations of a ledger file in file order (empty if the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
