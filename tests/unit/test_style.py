"""One style for the whole repository: ruff's formatter and linter, and mypy, as pyproject.toml
configures them (a test, so the README's test command enforces it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [["ruff", "format", "--check", "."], ["ruff", "check", "."], ["mypy", "."]],
    ids=["ruff-format", "ruff-check", "mypy"],
)
def test_the_tree_passes(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
