"""Damage a worker's SQLite WAL (or a page of its database) while the worker is down.

Corruption is permanent: heal only makes sure the worker runs again. The worker is halted with
SIGKILL by default, because a graceful stop lets SQLite checkpoint and delete the -wal file,
which would leave nothing to damage.
"""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path
from typing import Any

import docker.errors
from docker.models.containers import Container

from core.evidence import EffectCheck
from faults import sqlite_damage
from faults.base import Fault, FaultError, wait_for
from faults.pause import freeze
from faults.target import OUR_LABEL, Project, is_running, state, volume_host_path

MODES = ("truncate", "flip", "delete", "damage_page")
UNSAVED_FRAMES = 20  # a few commits' worth of frames not yet checkpointed


class CorruptWal(Fault):
    """Halt the container, damage `task_queue.db-wal` (or the db) in its volume, start it again."""

    name = "corrupt_wal"

    def __init__(
        self,
        stack: Project,
        service: str,
        mode: str = "truncate",
        wal_dir: str = "/var/lib/ecoeco/wal",
        db_name: str = "task_queue.db",
        halt: str = "kill",
        page: int = 2,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if halt not in ("kill", "stop"):
            raise ValueError(f"halt must be 'kill' or 'stop', not {halt!r}")
        self.stack, self.service, self.mode = stack, service, mode
        self.wal_dir, self.db_name, self.halt, self.page = wal_dir, db_name, halt, page
        self._container: Container | None = None
        self._before: dict[str, tuple[int, str] | None] = {}
        self._after: dict[str, tuple[int, str] | None] = {}
        self._damage = ""
        # the frozen worker's frames not yet checkpointed at the kill; forced: the deadline came first
        self.unsaved_at_kill: int | None = None
        self.kill_forced = False
        # rows as SQLite reads them at the halt and after the damage: what the damage really dropped
        self.rows_dropped: dict[str, list[tuple[object, ...]]] | None = None

    def _host_dir(self, container: Container) -> Path:
        """Host directory behind `wal_dir` in the container (a volume of ours, or a bind mount)."""
        for mount in container.attrs["Mounts"]:
            if mount.get("Destination") != self.wal_dir:
                continue
            if mount.get("Type") == "volume":
                volume = self.stack.client.volumes.get(mount["Name"])
                if (volume.attrs.get("Labels") or {}).get(OUR_LABEL) != self.stack.project:
                    raise FaultError(f"refusing to damage volume {volume.name}: not labelled {OUR_LABEL}")
                return volume_host_path(volume)
            return Path(mount["Source"])
        raise FaultError(f"{container.name} has no mount at {self.wal_dir}")

    def _files(self, directory: Path) -> dict[str, Path]:
        db = directory / self.db_name
        return {"db": db, "wal": Path(f"{db}-wal"), "shm": Path(f"{db}-shm")}

    def inject(self) -> None:
        """Halt, damage, start; the container is started again even when the damage fails."""
        container = self.stack.container(self.service)
        directory = self._host_dir(container)
        files = self._files(directory)
        self._container = container
        # Docker counts both as a manual stop: the restart policy stays out of the way.
        if self.mode == "truncate" and self.halt == "kill":
            self._kill_with_unsaved(container, files["shm"])
        elif self.halt == "kill":
            container.kill()
        else:
            container.stop(timeout=10)
        wait_for(lambda: not state(container)["Running"], timeout_s=30, what=f"{container.name} halted")
        self._before = {k: sqlite_damage.fingerprint(p) for k, p in files.items()}
        rows_before = self._rows(files)
        try:
            self._damage = self._apply(files)
        finally:
            self._after = {k: sqlite_damage.fingerprint(p) for k, p in files.items()}
            rows_after = self._rows(files) if self._damage else None
            if rows_before is not None and rows_after is not None:
                self.rows_dropped = sqlite_damage.rows_dropped(rows_before, rows_after)
            self.heal()

    def _kill_with_unsaved(self, container: Container, shm: Path, timeout_s: float = 10.0) -> None:
        """SIGKILL while commits wait in the WAL for a checkpoint: right after one, a cut loses nothing.

        A checkpoint can run between a look at the -shm and the kill, so the worker is frozen before
        it is looked at (Docker delivers a kill to a paused container) and thawed again while
        nothing waits. After `timeout_s` it is killed whatever the WAL holds; the damage then says
        whether anything was at risk.
        """
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                freeze(container)
                self.unsaved_at_kill = sqlite_damage.unsaved_frames(shm)
                if self.unsaved_at_kill >= UNSAVED_FRAMES:
                    break
                if time.monotonic() >= deadline:
                    self.kill_forced = True
                    break
                container.unpause()
                time.sleep(random.uniform(0.005, 0.05))  # a fixed beat could keep meeting the same moment
            container.kill()
        except BaseException:
            with contextlib.suppress(docker.errors.APIError):  # never leave the worker frozen
                if state(container)["Paused"]:
                    container.unpause()
            raise

    def _rows(self, files: dict[str, Path]) -> dict[str, set[tuple[object, ...]]] | None:
        """Rows of the halted worker's database (None if it cannot be read: the damage may be a page)."""
        if self.mode == "damage_page" or not files["db"].exists():
            return None
        try:
            return sqlite_damage.rows_of_copy(files["db"], files["wal"])
        except Exception:  # an unreadable copy only means the rows cannot be compared
            return None

    def _apply(self, files: dict[str, Path]) -> str:
        """Do the damage; returns what was done."""
        wal, db = files["wal"], files["db"]
        if self.mode != "damage_page":
            size = wal.stat().st_size if wal.exists() else None
            if size is None or size <= sqlite_damage.WAL_HEADER_BYTES:
                # nothing committed is at risk: the fault would test nothing
                raise FaultError(f"no WAL frames in {wal} to damage (size {size}; checkpointed, or never written)")
        try:
            # what was checkpointed comes from the -shm, read before it is dropped
            done = sqlite_damage.truncate_half(wal, files["shm"]) if self.mode == "truncate" else None
        except (ValueError, OSError) as exc:
            raise FaultError(f"could not damage {self.mode}: {exc}") from exc
        # The -shm index is derived from the WAL: drop it so SQLite rebuilds it from the damaged WAL.
        with contextlib.suppress(FileNotFoundError):
            files["shm"].unlink()
        try:
            if done is not None:
                return done
            if self.mode == "delete":
                return sqlite_damage.delete(wal)
            if self.mode == "flip":
                return sqlite_damage.flip_frame_byte(wal)
            return sqlite_damage.damage_page(db, self.page)
        except (ValueError, OSError) as exc:
            raise FaultError(f"could not damage {self.mode}: {exc}") from exc

    def heal(self) -> None:
        """Start the container if it is down (the damage itself cannot be undone)."""
        if self._container is None:
            return
        try:
            st = state(self._container)
            if st["Paused"]:  # frozen for the look at the -shm, and the kill never came
                self._container.unpause()
            if not st["Running"]:
                self._container.start()
            wait_for(
                lambda: self._container is not None and is_running(self._container),
                timeout_s=30,
                what=f"{self._container.name} running after WAL damage",
            )
        except docker.errors.NotFound:
            return

    def evidence(self) -> list[EffectCheck]:
        """File (size, sha256) before vs after the damage; the container running again."""
        if not self._before:
            return [EffectCheck("damaged", False, "nothing was damaged")]
        key = "db" if self.mode == "damage_page" else "wal"
        before, after = self._before.get(key), self._after.get(key)
        expected = {
            "truncate": after is not None and before is not None and after[0] < before[0],
            "delete": before is not None and after is None,
            "flip": after is not None and before is not None and after[0] == before[0] and after[1] != before[1],
            "damage_page": after is not None and before is not None and after[1] != before[1],
        }[self.mode]
        running = self._container is not None and is_running(self._container)
        return [
            EffectCheck(
                f"damaged:{key}", expected, f"{self._damage or 'no damage done'}; before={before} after={after}"
            ),
            EffectCheck("running-again", running, "the corruption is permanent; only the container was restarted"),
        ]

    def describe(self) -> dict[str, Any]:
        """Service, mode, files, halt method."""
        return {
            "fault": self.name,
            "service": self.service,
            "mode": self.mode,
            "wal_dir": self.wal_dir,
            "db_name": self.db_name,
            "halt": self.halt,
            "page": self.page,
            "unsaved_frames_at_kill": self.unsaved_at_kill,
            "kill_forced_by_deadline": self.kill_forced,
        }
