"""A real ENOSPC on a loop-mounted ext4 volume; a real SQLite WAL damaged inside a container's volume."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from faults import CorruptWal, FaultError, FillDisk, took_effect
from faults.corrupt_wal import UNSAVED_FRAMES
from faults.fill_disk import BALLAST_NAME
from faults.target import is_running, volume_host_path
from faults.wait import until
from tests.faults.conftest import TestProject, require_image
from tests.faults.sqlite_wal import make_wal_db, read_back

pytestmark = pytest.mark.integration
WAL_DIR = "/var/lib/ecoeco/wal"


def write(name: str) -> list[str]:
    """A 16 KiB synced write of a new file in the WAL directory."""
    return ["dd", "if=/dev/zero", f"of={WAL_DIR}/{name}", "bs=4k", "count=4", "conv=fsync"]


def test_fill_disk_gives_enospc_until_healed(proj: TestProject, loop_ext4: Path) -> None:
    volume = proj.volume("wal-storage", type="none", o="bind", device=str(loop_ext4))
    worker = proj.run("worker-storage", volumes={volume.name: {"bind": WAL_DIR, "mode": "rw"}})
    assert worker.exec_run(write("before")).exit_code == 0
    fault = FillDisk(proj.stack, "wal-storage")
    fault.inject()
    evidence = fault.evidence()
    assert took_effect(evidence), evidence
    result = worker.exec_run(write("during"))
    assert result.exit_code != 0 and b"No space left on device" in result.output
    fault.heal()
    fault.heal()
    assert not (loop_ext4 / BALLAST_NAME).exists()
    assert worker.exec_run(write("after")).exit_code == 0


def test_fill_disk_keeps_the_disk_full_when_the_system_frees_space(proj: TestProject, loop_ext4: Path) -> None:
    """PostgreSQL removes old WAL segments at a checkpoint and writes into the space: the fault must
    take such space back until heal, or the disk is full only in the instant after inject."""
    volume = proj.volume("wal-storage", type="none", o="bind", device=str(loop_ext4))
    worker = proj.run("worker-storage", volumes={volume.name: {"bind": WAL_DIR, "mode": "rw"}})
    big = ["dd", "if=/dev/zero", f"of={WAL_DIR}/segment", "bs=1M", "count=4", "conv=fsync"]
    assert worker.exec_run(big).exit_code == 0
    fault = FillDisk(proj.stack, "wal-storage")
    fault.inject()
    assert worker.exec_run(["rm", f"{WAL_DIR}/segment"]).exit_code == 0  # 4 MiB freed by "the system"
    until(lambda: fault.refilled >= 3 * 1024 * 1024, timeout_s=10, what="the freed space taken back")
    result = worker.exec_run(write("during"))
    assert result.exit_code != 0 and b"No space left on device" in result.output
    assert took_effect(fault.evidence()), fault.evidence()
    fault.heal()
    assert not (loop_ext4 / BALLAST_NAME).exists()
    assert worker.exec_run(write("after")).exit_code == 0


def test_fill_disk_refuses_the_host_root_filesystem(proj: TestProject) -> None:
    volume = proj.volume("pg-waste-data")  # a plain local volume lives under /var/lib/docker
    fault = FillDisk(proj.stack, "pg-waste-data")
    with pytest.raises(FaultError, match="refusing"):
        fault.inject()
    fault.heal()
    assert not (volume_host_path(volume) / BALLAST_NAME).exists()


def test_fill_disk_refuses_a_filesystem_over_the_cap(proj: TestProject, loop_ext4: Path) -> None:
    proj.volume("wal-ai", type="none", o="bind", device=str(loop_ext4))
    with pytest.raises(FaultError, match="max_fill_bytes"):
        FillDisk(proj.stack, "wal-ai", max_fill_bytes=1024 * 1024).inject()


def test_fill_disk_never_fills_the_host_disk_its_sparse_image_lives_on(
    proj: TestProject, loop_ext4: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faults import fill_disk

    proj.volume("wal-ai", type="none", o="bind", device=str(loop_ext4))
    assert fill_disk.loop_backing_file(loop_ext4) is not None  # the 16 MiB image behind it
    monkeypatch.setattr(fill_disk, "HOST_MARGIN_BYTES", 1 << 62)  # as if the host disk were (nearly) full
    with pytest.raises(FaultError, match="host filesystem"):
        FillDisk(proj.stack, "wal-ai").inject()
    assert not (loop_ext4 / BALLAST_NAME).exists()


@pytest.mark.parametrize(
    ("mode", "expect"),
    [
        ("truncate", "some rows lost, integrity ok"),
        ("flip", "some rows lost, integrity ok"),
        ("delete", "all WAL rows lost, integrity ok"),
        ("damage_page", "integrity fails"),
    ],
)
def test_corrupt_wal_loses_committed_rows(proj: TestProject, mode: str, expect: str) -> None:
    volume = proj.volume("wal-ai")
    db = volume_host_path(volume) / "task_queue.db"
    # damage_page hits the main file: checkpoint everything there (a WAL copy of the page would mask it)
    checkpointed, in_wal = (300, 0) if mode == "damage_page" else (50, 200)
    make_wal_db(db, checkpointed, in_wal)
    assert read_back(db) == (checkpointed + in_wal, "ok")
    worker = proj.run("worker-ai", volumes={volume.name: {"bind": WAL_DIR, "mode": "rw"}})
    fault = CorruptWal(proj.stack, "worker-ai", mode=mode)
    fault.inject()
    evidence = fault.evidence()
    assert took_effect(evidence), evidence
    assert is_running(worker)
    rows, check = read_back(db)
    if expect == "integrity fails":
        assert check != "ok" or rows is None
    elif expect == "all WAL rows lost, integrity ok":
        assert (rows, check) == (checkpointed, "ok")
    else:
        assert rows is not None and checkpointed <= rows < checkpointed + in_wal and check == "ok"
    fault.heal()
    assert is_running(worker)


def test_corrupt_wal_without_a_wal_fails_but_leaves_the_worker_running(proj: TestProject) -> None:
    volume = proj.volume("wal-storage")
    make_wal_db(volume_host_path(volume) / "task_queue.db", 10, 0)
    (volume_host_path(volume) / "task_queue.db-wal").unlink()
    worker = proj.run("worker-storage", volumes={volume.name: {"bind": WAL_DIR, "mode": "rw"}})
    fault = CorruptWal(proj.stack, "worker-storage", mode="truncate")
    with pytest.raises(FaultError, match="no WAL frames"):
        fault.inject()
    assert is_running(worker)
    assert not took_effect(fault.evidence())


# A writer whose commits wait for a checkpoint only about 10 ms out of every 70: a look at the -shm is
# out of date by the time a kill lands, unless the writer is frozen while it is looked at.
BUSY_WRITER = (
    "import sqlite3, time\n"
    f"db = sqlite3.connect('{WAL_DIR}/task_queue.db', isolation_level=None)\n"
    "db.execute('PRAGMA journal_mode=WAL')\n"
    "db.execute('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)')\n"
    "while True:\n"
    "    for _ in range(3):\n"
    "        db.execute('INSERT INTO t (v) VALUES (?)', (bytes(40000),))\n"
    "    time.sleep(0.005)\n"
    "    db.execute('PRAGMA wal_checkpoint(PASSIVE)')\n"
    "    time.sleep(0.06)\n"
)


def test_corrupt_wal_kills_a_busy_writer_while_commits_wait_for_a_checkpoint(
    proj: TestProject, docker_client: docker.DockerClient
) -> None:
    image = require_image(docker_client, "ecoeco-app")
    volume = proj.volume("wal-busy")
    worker = proj.run(
        "worker-storage",
        image=image,
        command=["python3", "-c", BUSY_WRITER],
        user="root",  # a fresh volume is root's; the fault cares about the files, not the uid
        volumes={volume.name: {"bind": WAL_DIR, "mode": "rw"}},
    )
    shm = volume_host_path(volume) / "task_queue.db-shm"
    until(shm.exists, timeout_s=30, what="the writer's -shm")
    for _ in range(3):  # each round: frozen, looked at, killed, cut, started again
        fault = CorruptWal(proj.stack, "worker-storage", mode="truncate")
        fault.inject()
        assert took_effect(fault.evidence()), fault.evidence()
        assert fault.unsaved_at_kill is not None and fault.unsaved_at_kill >= UNSAVED_FRAMES
        assert not fault.kill_forced
        assert is_running(worker)
