"""The operation ledger: Jepsen-style history of client operations, as JSON lines.

Each op is logged twice: an `invoke` before the request, then `ok` (definitely happened),
`fail` (definitely did not happen) or `info` (outcome unknown, e.g. a timeout). The format is
fixed in docs/contracts.md; checkers judge the whole history afterwards.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, cast, get_args

OpType = Literal["invoke", "ok", "fail", "info"]
Outcome = Literal["ok", "fail", "info"]
OpFunction = Literal["upload", "chat", "register", "profile"]  # what the load's users do
MAX_ERROR_CHARS = 500  # small lines stay whole when several processes append to one file at once
OP_TYPES: tuple[str, ...] = get_args(OpType)
OUTCOMES: tuple[str, ...] = get_args(Outcome)


class LedgerError(ValueError):
    """A ledger line that is not a valid op (other than a torn last line)."""


@dataclass(frozen=True)
class Op:
    """One ledger line."""

    time: float
    process: str
    type: OpType
    f: str
    id: str
    error: str | None = None

    def to_json(self) -> str:
        """The op as one JSON line (without the newline)."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Op:
        """Parse one line; raises LedgerError when it is not a valid op."""
        try:
            raw = json.loads(line)
            op_type = raw["type"]
            if op_type not in OP_TYPES:
                raise LedgerError(f"unknown op type {op_type!r}")
            error = raw.get("error")
            return cls(
                time=float(raw["time"]),
                process=str(raw["process"]),
                type=cast(OpType, op_type),  # equivalent mutant: cast(None, ...) (no runtime effect)
                f=str(raw["f"]),
                id=str(raw["id"]),
                error=None if error is None else str(error),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, LedgerError):
                raise
            raise LedgerError(f"not a ledger op: {exc}") from exc


class LedgerWriter:
    """The one ledger writer (the load's users and the harness's canaries append to the same file):
    each op is one JSON line in a single O_APPEND write, safe across threads, greenlets and
    processes, so a crash loses at most the line being written and never tears another."""

    def __init__(self, path: Path | str, process: str = "") -> None:
        self.path = Path(path)
        self.process = process
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def append(self, op: Op) -> None:
        """Write one op (no fsync: surviving the harness's own crash is enough)."""
        data = (op.to_json() + "\n").encode()
        with self._lock:
            if self._fd is None:
                raise ValueError(f"ledger {self.path} is closed")
            written = os.write(self._fd, data)
        if written != len(data):  # a short write would leave half a line for the next writer to glue onto
            raise OSError(f"short write to ledger {self.path}: {written} of {len(data)} bytes")

    def record(
        self,
        op_type: OpType,
        f: str,
        op_id: str,
        error: str | None = None,
        *,
        process: str | None = None,
        time_s: float | None = None,
    ) -> Op:
        """Append an op stamped now (or at `time_s`) by `process` (default: this writer's), and return it.
        A long `error` is cut to MAX_ERROR_CHARS so lines stay small enough to be written whole."""
        op = Op(
            time=time.time() if time_s is None else time_s,
            process=self.process if process is None else process,
            type=op_type,
            f=f,
            id=op_id,
            error=None if error is None else error[:MAX_ERROR_CHARS],
        )
        self.append(op)
        return op

    def close(self) -> None:
        """Close the file; later closes are no-ops, later appends raise ValueError."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def parse_lines(lines: Iterable[str]) -> list[Op]:
    """Ops from ledger lines; a bad last line is a torn write and skipped, a bad earlier one raises."""
    ops: list[Op] = []
    pending_error: LedgerError | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if pending_error is not None:  # the bad line was not the last one: real corruption
            raise pending_error
        try:
            ops.append(Op.from_json(line))
        except LedgerError as exc:
            pending_error = LedgerError(f"line {number}: {exc}")
    return ops


def read_ledger(path: Path | str) -> list[Op]:
    """All ops of a ledger file (missing file -> empty history), tolerating a torn last line."""
    p = Path(path)
    if not p.exists():
        return []
    # equivalent mutants: no encoding or "UTF-8" (the same under a UTF-8 locale, as here)
    with p.open(encoding="utf-8", errors="replace") as fh:
        return parse_lines(fh)


# When one id was attempted several times (client retries with the same idempotent id), the
# strongest completion decides: any ok means the system acknowledged it; otherwise any
# unknown (info, or an invoke that never completed) means it may have happened.
_STRENGTH: dict[str, int] = {"fail": 0, "info": 1, "ok": 2}


def outcomes(ops: Iterable[Op]) -> dict[tuple[str, str], Outcome]:
    """Final outcome per (f, id): ok > info > fail; an invoke without a completion counts as info."""
    invokes: dict[tuple[str, str], int] = defaultdict(int)
    completions: dict[tuple[str, str], int] = defaultdict(int)
    best: dict[tuple[str, str], Outcome] = {}
    for op in ops:
        key = (op.f, op.id)
        if op.type == "invoke":
            invokes[key] += 1
            continue
        completions[key] += 1
        current = best.get(key)
        # equivalent mutant: >= (an equally strong completion rewrites the same value)
        if current is None or _STRENGTH[op.type] > _STRENGTH[current]:
            best[key] = op.type
    for key, n_invokes in invokes.items():
        # equivalent mutant: <= _STRENGTH["info"] (info would be set to info)
        if completions[key] < n_invokes and _STRENGTH[best.get(key, "fail")] < _STRENGTH["info"]:
            best[key] = "info"
    return best


def outcomes_for(ops: Iterable[Op], f: str) -> dict[str, Outcome]:
    """Final outcome per id for one op kind (what the RPO checker takes)."""
    return {op_id: outcome for (kind, op_id), outcome in outcomes(ops).items() if kind == f}


def unheard(ops: Iterable[Op], f: str, down: Sequence[tuple[float, float]]) -> frozenset[str]:
    """Ids of kind `f` whose every attempt, from invoke to completion, lies inside one span of
    `down` (no process serving them: dead, or started but not yet serving): no process heard them,
    so an unknown outcome there is a refusal. An attempt that never completed has no end to bound: not unheard."""
    spans: dict[str, list[tuple[float, float | None]]] = defaultdict(list)
    pending: dict[tuple[str, str], float] = {}
    for op in ops:
        if op.f != f:
            continue
        key = (op.process, op.id)
        if op.type == "invoke":
            if key in pending:  # a second invoke before a completion: the first never ended
                spans[op.id].append((pending[key], None))
            pending[key] = op.time
        elif key in pending:
            spans[op.id].append((pending.pop(key), op.time))
    for (_, op_id), started in pending.items():
        spans[op_id].append((started, None))

    def inside(start: float, end: float | None) -> bool:
        return end is not None and any(lo <= start and end <= hi for lo, hi in down)

    return frozenset(i for i, attempts in spans.items() if all(inside(a, b) for a, b in attempts))


def summarise(ops: Iterable[Op]) -> dict[str, dict[str, int]]:
    """Counts per op kind: `invoke` (invocations) and final outcomes ok / fail / info per id."""
    op_list = list(ops)
    summary: dict[str, dict[str, int]] = {}
    for op in op_list:
        counts = summary.setdefault(op.f, {"invoke": 0, "ok": 0, "fail": 0, "info": 0})
        if op.type == "invoke":
            counts["invoke"] += 1
    for (f, _), outcome in outcomes(op_list).items():
        summary[f][outcome] += 1  # every kind got its counts in the loop above
    return summary
