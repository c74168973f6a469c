"""One run per project: a second run is refused with a clear message, and the lock is gone with
the process that held it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from harness import runlock
from harness.config import REPO_ROOT


def test_a_second_run_of_the_same_project_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runlock.HELD_ENV, raising=False)
    project = f"lock-test-{uuid.uuid4().hex[:8]}"
    first = runlock.acquire(project)
    try:
        with pytest.raises(runlock.RunLocked, match=f"another run of project '{project}'"):
            runlock.acquire(project)
        assert runlock.acquire(f"{project}-other") is not None  # another project is another lock
    finally:
        assert first is not None
        first.close()
    again = runlock.acquire(project)
    assert again is not None
    again.close()
    runlock.lock_path(project).unlink()
    runlock.lock_path(f"{project}-other").unlink()


def test_a_killed_holder_leaves_no_stale_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runlock.HELD_ENV, raising=False)
    project = f"lock-test-{uuid.uuid4().hex[:8]}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from harness import runlock; import time, sys; "
            f"h = runlock.acquire({project!r}); print('held', flush=True); time.sleep(60)",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(runlock.RunLocked):
            runlock.acquire(project)
        holder.kill()  # kill -9 of a run: the kernel drops its lock
        holder.wait(10)
        lock = runlock.acquire(project)
        assert lock is not None
        lock.close()
    finally:
        holder.kill()
        runlock.lock_path(project).unlink(missing_ok=True)


def test_the_scripts_refuse_a_second_run_before_touching_anything(tmp_path: Path) -> None:
    """scripts/chaos.sh and scripts/test.sh source scripts/runlock.sh first: a second run exits 3
    before its cleanup trap exists, so it cannot tear the first run's stack down."""
    script = REPO_ROOT / "scripts" / "runlock.sh"
    env = {"REPO": str(tmp_path), "ECOECO_PROJECT": "lock-test", "PATH": "/usr/bin:/bin"}
    first = subprocess.Popen(
        ["bash", "-c", f'source "{script}"; echo held; sleep 60'], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "held"
        second = subprocess.run(
            ["bash", "-c", f'source "{script}"; echo "ran anyway"'], env=env, capture_output=True, text=True, timeout=30
        )
        assert second.returncode == 3 and "ran anyway" not in second.stdout
        assert "another run of project lock-test is going on" in second.stderr
    finally:
        first.kill()
        first.wait(10)
    third = subprocess.run(
        ["bash", "-c", f'source "{script}"; echo ok'], env=env, capture_output=True, text=True, timeout=30
    )
    assert third.stdout.strip() == "ok"
