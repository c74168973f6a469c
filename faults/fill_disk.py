"""Fill the filesystem under a named volume until writes fail with ENOSPC (a real full disk)."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from pathlib import Path
from typing import Any

from core.evidence import EffectCheck
from faults.base import TAG, Fault, FaultError
from faults.target import Project, volume_host_path

BALLAST_NAME = f".{TAG}-ballast"
PROBE_NAME = f".{TAG}-probe"
_MIB = 1024 * 1024


HOST_MARGIN_BYTES = 2 * 1024 * _MIB
KEEP_FULL_PERIOD_S = 0.1


def loop_backing_file(directory: Path) -> Path | None:
    """The image file behind the loop device `directory` is mounted from (None: not a loop mount)."""
    dev = os.stat(directory).st_dev
    try:
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields = line.split()
        major, minor = (int(x) for x in fields[2].split(":"))
        if os.makedev(major, minor) != dev:
            continue
        source = line.split(" - ", 1)[1].split()[1]
        name = Path(source).name
        backing = Path(f"/sys/block/{name}/loop/backing_file")
        if name.startswith("loop") and backing.exists():
            return Path(backing.read_text().strip())
    return None


def remove_ballast(directory: Path) -> bool:
    """Delete the ballast (and probe) file in a volume directory; True if a ballast was there."""
    found = (directory / BALLAST_NAME).exists()
    for name in (BALLAST_NAME, PROBE_NAME):
        with contextlib.suppress(FileNotFoundError):
            (directory / name).unlink()
    return found


def _enospc_on_write(directory: Path) -> tuple[bool, str]:
    """Try to write and sync 64 KiB; (True, detail) when the filesystem answers ENOSPC."""
    probe = directory / PROBE_NAME
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * 65536)
            os.fsync(fd)
        finally:
            os.close(fd)
        return False, "a 64 KiB write succeeded"
    except OSError as exc:
        return exc.errno == errno.ENOSPC, f"write failed: {exc}"
    finally:
        with contextlib.suppress(FileNotFoundError):
            probe.unlink()


class FillDisk(Fault):
    """Write a ballast file into a volume's host directory until its filesystem is full."""

    name = "fill_disk"

    def __init__(self, stack: Project, volume: str, max_fill_bytes: int = 4 * 1024 * _MIB) -> None:
        self.stack = stack
        self.volume = volume
        self.max_fill_bytes = max_fill_bytes  # refuse to fill a filesystem with more free space than this
        self._dir: Path | None = None
        self._written = 0
        self._enospc_seen = False
        self.refilled = 0  # bytes written after the first fill, as the system freed space
        self._halt = threading.Event()
        self._keeper: threading.Thread | None = None

    def _check_filesystem(self, directory: Path) -> int:
        """Free bytes (root's view) of the volume's filesystem; FaultError if it must not be filled."""
        if not directory.is_dir():
            raise FaultError(f"volume {self.volume}: host path {directory} is not a directory")
        dev = os.stat(directory).st_dev
        docker_root = str(self.stack.client.info().get("DockerRootDir", "/var/lib/docker"))
        for protected in ("/", docker_root):
            if os.path.exists(protected) and os.stat(protected).st_dev == dev:
                raise FaultError(
                    f"refusing to fill {directory}: it is on the same filesystem as {protected}; "
                    "put the volume on its own small filesystem (e.g. a loop-mounted ext4 image)"
                )
        st = os.statvfs(directory)
        free = st.f_bfree * st.f_frsize  # we write as root, so reserved blocks count too
        if free > self.max_fill_bytes:
            raise FaultError(f"refusing to fill {directory}: {free} bytes free > max_fill_bytes {self.max_fill_bytes}")
        backing = loop_backing_file(directory)
        if backing is not None:
            # a sparse loop image grows on the host's disk as it fills: never let it fill that one
            host = os.statvfs(backing.parent)
            host_free = host.f_bavail * host.f_frsize
            if host_free < free + HOST_MARGIN_BYTES:
                raise FaultError(
                    f"refusing to fill {directory}: its image {backing} would take {free} bytes of the "
                    f"host filesystem, which has only {host_free} free (keeping {HOST_MARGIN_BYTES})"
                )
        return free

    def inject(self) -> None:
        """Preallocate most of the free space, then top up with writes until ENOSPC."""
        directory = volume_host_path(self.stack.volume(self.volume))
        free = self._check_filesystem(directory)
        self._dir = directory  # set before writing: heal removes a partial ballast too
        fd = os.open(directory / BALLAST_NAME, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            # leave a little for extent metadata, so the fallocate itself does not fail
            with contextlib.suppress(OSError):
                if free > 2 * _MIB:
                    os.posix_fallocate(fd, 0, free - _MIB)
            self._written = os.fstat(fd).st_size
            os.lseek(fd, 0, os.SEEK_END)
            for chunk in (_MIB, 4096, 512):
                self._top_up(fd, chunk, limit=free + _MIB)
            with contextlib.suppress(OSError):
                os.fsync(fd)
        finally:
            os.close(fd)
        if not self._enospc_seen:
            raise FaultError(f"wrote {self._written} bytes into {directory} without seeing ENOSPC")
        # A database frees space by itself (PostgreSQL removes old WAL segments at a checkpoint) and
        # goes on writing into it: on a real full disk other writers take such space at once, so
        # keep taking it until heal (measured: without this, 2 MiB came back within the 10 s hold
        # and no upload was refused).
        self._halt.clear()
        self._keeper = threading.Thread(target=self._keep_full, name=f"keep-full-{self.volume}", daemon=True)
        self._keeper.start()

    def _keep_full(self) -> None:
        assert self._dir is not None
        backing = loop_backing_file(self._dir)
        while not self._halt.wait(KEEP_FULL_PERIOD_S):
            st = os.statvfs(self._dir)
            if st.f_bfree * st.f_frsize < 4096 or self._written >= self.max_fill_bytes:
                continue
            if backing is not None:  # the sparse image grows on the host: keep the host's margin
                host = os.statvfs(backing.parent)
                if host.f_bavail * host.f_frsize < HOST_MARGIN_BYTES:
                    continue
            before = self._written
            try:
                fd = os.open(self._dir / BALLAST_NAME, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
            except OSError:
                return  # healed (or removed) meanwhile
            try:
                for chunk in (_MIB, 4096, 512):
                    self._top_up(fd, chunk, limit=self.max_fill_bytes)
            except FaultError:
                return
            finally:
                os.close(fd)
            self.refilled += self._written - before

    def _top_up(self, fd: int, chunk: int, limit: int) -> None:
        block = b"\0" * chunk
        while self._written + chunk <= limit:
            try:
                self._written += os.write(fd, block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise FaultError(f"ballast write failed: {exc}") from exc
                self._enospc_seen = True
                return

    def heal(self) -> None:
        """Stop keeping the disk full, then delete the ballast file (no-op if there is none)."""
        self._halt.set()
        if self._keeper is not None:
            self._keeper.join(timeout=10)
            self._keeper = None
        if self._dir is not None:
            remove_ballast(self._dir)

    def evidence(self) -> list[EffectCheck]:
        """ENOSPC seen while filling; free space now; a fresh 64 KiB write fails with ENOSPC."""
        if self._dir is None:
            return [EffectCheck("enospc", False, "no volume was filled")]
        st = os.statvfs(self._dir)
        free, avail = st.f_bfree * st.f_frsize, st.f_bavail * st.f_frsize
        probe_enospc, probe_detail = _enospc_on_write(self._dir)
        return [
            EffectCheck("enospc-while-filling", self._enospc_seen, f"ballast {self._written} bytes in {self._dir}"),
            # a block or two may be freed meanwhile (a database recycles its own files): less than a
            # MiB left is still a full disk for every writer here
            EffectCheck("no-free-space", avail < _MIB, f"free={free} bytes, available to non-root={avail} bytes"),
            EffectCheck("enospc-on-write", probe_enospc, probe_detail),
            EffectCheck("kept-full", True, f"{self.refilled} bytes taken back as the system freed them"),
        ]

    def describe(self) -> dict[str, Any]:
        """Volume and safety cap."""
        return {"fault": self.name, "volume": self.volume, "max_fill_bytes": self.max_fill_bytes}
