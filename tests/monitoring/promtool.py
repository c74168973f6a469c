"""Run promtool: inside the ecoeco-prometheus image (CI needs nothing but Docker), else on the host."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

IMAGE = "ecoeco-prometheus"
TEST_LABEL = "org.ecoeco.project=ecoeco-mon-test"


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str


def image_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, timeout=30)
    return probe.returncode == 0


def backend() -> str | None:
    """'docker' when the image is there, 'host' when promtool is installed, else None."""
    if image_available():
        return "docker"
    if shutil.which("promtool"):
        return "host"
    return None


def promtool(args: list[str], workdir: Path, timeout: float = 300) -> Result:
    """Run `promtool ARGS` with `workdir` as the current directory (mounted at /work in the image).

    Paths in ARGS must be relative to `workdir`.
    """
    how = backend()
    if how == "docker":
        cmd = [
            "docker", "run", "--rm", "--label", TEST_LABEL, "--network", "none",
            "-v", f"{workdir.resolve()}:/work:ro", "-w", "/work", IMAGE, "promtool", *args,
        ]  # fmt: skip
    elif how == "host":
        cmd = ["promtool", *args]
    else:
        raise RuntimeError(f"neither the {IMAGE} image nor a host promtool is available")
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout + proc.stderr)


def split_unit_test_output(output: str) -> dict[str, str]:
    """`promtool test rules` output per test file (by base name): its SUCCESS / FAILED block."""
    blocks: dict[str, str] = {}
    for chunk in output.split("Unit Testing:")[1:]:
        first, _, rest = chunk.partition("\n")
        blocks[Path(first.strip()).name] = rest
    return blocks
