"""Small loop-mounted ext4 filesystems behind the volumes a disk-full fault targets.

A real ENOSPC must happen on the target's own filesystem, never on the host's: the WAL
volumes and ecoeco_waste's data live on their own small ext4 images, mounted as root before
`docker compose up` and unmounted after `down`. Without root (or loop devices) the volumes
fall back to plain directories and the disk-full scenario comes out inconclusive.

    python3 -m harness.disks prepare|release [project]
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

# volume -> size in MiB (pg-waste-data: PostgreSQL keeps wal_keep_size = 256MB of WAL)
DISKS = {"pg-waste-data": 640, "wal-storage": 64, "wal-ai": 64}
# The services of the ecoeco-app image run as this user (its Dockerfile's USER); the workers' WAL
# disks are its own. PostgreSQL's image gives its data disk to its own user.
APP_UID = 10001
APP_DISKS = ("wal-storage", "wal-ai")


def disk_root(project: str) -> Path:
    """Where this project's images and mount points live."""
    return Path(os.environ.get("ECOECO_DISK_DIR", "/var/lib/ecoeco-disks")) / project


def _mounted(path: Path) -> bool:
    return os.path.ismount(path)


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)


def prepare(project: str) -> dict[str, str]:
    """Fresh filesystems for the project's volumes; returns volume -> how it is backed."""
    root = disk_root(project)
    root.mkdir(parents=True, exist_ok=True)
    backing: dict[str, str] = {}
    for name, size_mib in DISKS.items():
        mnt = root / name
        mnt.mkdir(exist_ok=True)
        if _mounted(mnt):
            _run("umount", str(mnt))
        image = root / f"{name}.img"
        image.unlink(missing_ok=True)
        try:
            with open(image, "wb") as fh:
                fh.truncate(size_mib * 1024 * 1024)
            _run("mkfs.ext4", "-q", "-F", "-m", "0", str(image))
            _run("mount", "-o", "loop", str(image), str(mnt))
            backing[name] = f"ext4 {size_mib} MiB loop"
        except (OSError, subprocess.SubprocessError) as exc:
            image.unlink(missing_ok=True)
            log.warning(
                "no loop filesystem for %s (%s): plain directory, disk-full faults will be inconclusive", name, exc
            )
            backing[name] = "host directory"
        data = mnt / "data"  # a subdirectory: PostgreSQL wants an empty directory (no lost+found)
        if data.exists() and not _mounted(mnt):
            shutil.rmtree(data)
        data.mkdir(exist_ok=True)
        if name in APP_DISKS:
            os.chown(data, APP_UID, APP_UID)
            data.chmod(0o750)
    return backing


def release(project: str) -> None:
    """Unmount and delete the project's filesystems (idempotent)."""
    root = disk_root(project)
    if not root.exists():
        return
    for name in DISKS:
        mnt = root / name
        if _mounted(mnt):
            try:
                _run("umount", str(mnt))
            except subprocess.SubprocessError as exc:
                log.warning("could not unmount %s: %s", mnt, exc)
                continue
        (root / f"{name}.img").unlink(missing_ok=True)
        shutil.rmtree(mnt, ignore_errors=True)


def main(argv: list[str]) -> int:
    """CLI: prepare|release [project]."""
    if len(argv) < 1 or argv[0] not in ("prepare", "release"):
        print("usage: python3 -m harness.disks prepare|release [project]", file=sys.stderr)
        return 2
    project = argv[1] if len(argv) > 1 else os.environ.get("ECOECO_PROJECT", "ecoeco")
    if argv[0] == "prepare":
        for name, how in prepare(project).items():
            print(f"{name}: {how} at {disk_root(project) / name}")
    else:
        release(project)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main(sys.argv[1:]))
