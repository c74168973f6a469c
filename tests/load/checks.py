"""Assertions shared by the load tests: history shape and leftover processes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from load.driver import RUN_ID_ENV

PROCESS_ID = re.compile(r"^u-(\d+)-\d+$")


def completions_by_id(ops: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Check the Jepsen shape (each process: invoke, then its completion, one op at a time)."""
    pending: dict[str, tuple[str, str]] = {}
    done: dict[tuple[str, str], str] = {}
    for op in ops:
        assert PROCESS_ID.match(op["process"]), op
        assert op["f"] in ("upload", "chat", "register", "profile"), op
        key = (op["f"], op["id"])
        if op["type"] == "invoke":
            assert op["process"] not in pending, f"second op before a completion: {op}"
            assert key not in done, f"id reused: {op}"
            pending[op["process"]] = key
        else:
            assert pending.pop(op["process"], None) == key, f"completion without its invoke: {op}"
            assert (op["error"] is None) == (op["type"] == "ok"), op
            done[key] = op["type"]
    assert not pending, f"invokes without a completion: {pending}"
    return done


def pids_of(ops: list[dict[str, Any]]) -> set[int]:
    """Operating-system pids named in the ledger's process ids."""
    return {int(PROCESS_ID.match(op["process"]).group(1)) for op in ops}  # type: ignore[union-attr]


def processes_of_run(run_id: str) -> list[int]:
    """Pids of live processes (zombies included) whose environment carries this run id."""
    marker = f"{RUN_ID_ENV}={run_id}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found
