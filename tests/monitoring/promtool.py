"""Run promtool: inside the ecoeco-prometheus image (CI needs nothing but Docker), else on the host."""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
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


_PARALLEL = r"""
mkdir -p /tmp/o
for f in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge 6 ]; do wait -n; done
  ( promtool test rules "$f" >"/tmp/o/$(basename "$f").log" 2>&1; echo "rc=$?" >>"/tmp/o/$(basename "$f").log" ) &
done
wait
for f in "$@"; do echo "=== $(basename "$f")"; cat "/tmp/o/$(basename "$f").log"; done
"""


def test_rules_each(files: list[str], workdir: Path, timeout: float = 300) -> dict[str, Result]:
    """`promtool test rules FILE` for each file, six at a time (promtool mostly waits, ~0.4 s per
    test group); file base name -> its own Result."""
    how = backend()
    if how == "docker":
        cmd = [
            "docker", "run", "--rm", "--label", TEST_LABEL, "--network", "none", "--tmpfs", "/tmp",
            "-v", f"{workdir.resolve()}:/work:ro", "-w", "/work", IMAGE, "bash", "-c", _PARALLEL, "_", *files,
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        results: dict[str, Result] = {}
        for block in proc.stdout.split("=== ")[1:]:
            name, _, body = block.partition("\n")
            m = re.search(r"^rc=(\d+)$", body, re.M)
            results[name.strip()] = Result(int(m.group(1)) if m else -1, body)
        missing = [f for f in files if Path(f).name not in results]
        if missing:
            raise RuntimeError(f"promtool did not report {missing}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return results
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {Path(f).name: pool.submit(promtool, ["test", "rules", f], workdir, timeout) for f in files}
        return {name: fut.result() for name, fut in futures.items()}


def split_unit_test_output(output: str) -> dict[str, str]:
    """`promtool test rules` output per test file (by base name): its SUCCESS / FAILED block."""
    blocks: dict[str, str] = {}
    for chunk in output.split("Unit Testing:")[1:]:
        first, _, rest = chunk.partition("\n")
        blocks[Path(first.strip()).name] = rest
    return blocks
