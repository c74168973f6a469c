"""`pytest --as-written` collects the design review's points and no control; `-k` picks others
(collection only: no container is started)."""

from __future__ import annotations

import re
import subprocess
import sys

from harness.config import REPO_ROOT
from scenarios.catalogue import AS_WRITTEN_PLAN


def collected(*args: str) -> list[tuple[str, str]]:
    """(test function, parameter id) of every item pytest collects under `args`."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args, "scenarios"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [(m[1], m[2]) for m in re.finditer(r"::(test_\w+)\[([^\]]+)\]", done.stdout)]


def test_as_written_runs_the_review_plan_and_no_control() -> None:
    ids = collected("--as-written")
    assert {name for name, _ in ids} == {"test_failure_point"}
    assert len(ids) == len(AS_WRITTEN_PLAN) and ("test_failure_point", "f10-long") in ids
    assert ("test_failure_point", "f04-freeze") not in ids


def test_k_picks_any_point_as_written_and_the_hardened_run_keeps_everything() -> None:
    assert collected("--as-written", "-k", "f03 or f13") == [
        ("test_failure_point", "f03"),
        ("test_failure_point", "f13"),
    ]
    hardened = collected()
    assert any(name == "test_main_plan_catches_planted_defect" for name, _ in hardened)
    assert len([i for i in hardened if i[0] == "test_failure_point"]) > len(AS_WRITTEN_PLAN)
