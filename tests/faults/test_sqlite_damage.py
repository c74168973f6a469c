"""SQLite damage on real WAL-mode files: committed rows vanish while integrity_check may still say ok."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from faults import sqlite_damage
from tests.faults.sqlite_wal import make_wal_db, read_back


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "task_queue.db"
    make_wal_db(path, checkpointed=50, in_wal=200)
    assert Path(f"{path}-wal").stat().st_size > 0
    return path


def _drop_shm(db: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        Path(f"{db}-shm").unlink()


def test_undamaged_wal_keeps_every_commit(db: Path) -> None:
    assert read_back(db) == (250, "ok")


def test_truncate_half_loses_commits_silently(db: Path) -> None:
    _drop_shm(db)
    sqlite_damage.truncate_half(Path(f"{db}-wal"))
    rows, check = read_back(db)
    assert rows is not None and 50 <= rows < 250
    assert check == "ok"


def test_truncate_cuts_among_the_commits_not_yet_checkpointed(db: Path) -> None:
    """Frames already copied into the database survive any cut: the cut falls among the others,
    so the damage always loses something (or the fault says it cannot)."""
    wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
    page_size, ends = sqlite_damage.live_commits(wal.read_bytes())
    frame = sqlite_damage.FRAME_HEADER_BYTES + page_size
    saved = (ends[149] - sqlite_damage.WAL_HEADER_BYTES) // frame  # as if 150 of the 200 were checkpointed
    data = bytearray(shm.read_bytes())
    data[96:100] = saved.to_bytes(4, "little")
    shm.write_bytes(bytes(data))
    what = sqlite_damage.truncate_half(wal, shm)
    assert "cut 25 of the 50 commits not yet checkpointed" in what
    _drop_shm(db)
    rows, check = read_back(db)
    assert rows == 50 + 175 and check == "ok"
    data[96:100] = ((ends[-1] - sqlite_damage.WAL_HEADER_BYTES) // frame).to_bytes(4, "little")
    shm.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="nothing a cut could lose"):
        sqlite_damage.truncate_half(wal, shm)


def test_flipped_byte_drops_its_frame_and_everything_after(db: Path) -> None:
    _drop_shm(db)
    what = sqlite_damage.flip_frame_byte(Path(f"{db}-wal"))
    rows, check = read_back(db)
    assert rows is not None and 50 <= rows < 250, what
    assert check == "ok"


def test_deleted_wal_loses_every_uncheckpointed_commit(db: Path) -> None:
    _drop_shm(db)
    sqlite_damage.delete(Path(f"{db}-wal"))
    assert read_back(db) == (50, "ok")


def test_damaged_page_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "task_queue.db"
    make_wal_db(path, checkpointed=300, in_wal=0)
    sqlite_damage.damage_page(path, page=2)
    rows, check = read_back(path)
    assert rows is None or check != "ok"


def test_fingerprint_sees_the_change(db: Path) -> None:
    wal = Path(f"{db}-wal")
    before = sqlite_damage.fingerprint(wal)
    sqlite_damage.flip_frame_byte(wal, frame=0)
    after = sqlite_damage.fingerprint(wal)
    assert before is not None and after is not None
    assert before[0] == after[0] and before[1] != after[1]
    assert sqlite_damage.fingerprint(db.with_name("missing")) is None


def test_out_of_range_damage_is_refused(db: Path) -> None:
    with pytest.raises(ValueError, match="no page"):
        sqlite_damage.damage_page(db, page=10_000)
    with pytest.raises(ValueError, match="no frame"):
        sqlite_damage.flip_frame_byte(Path(f"{db}-wal"), frame=10_000)


def test_rows_dropped_names_the_commits_the_damage_cut(db: Path) -> None:
    wal = Path(f"{db}-wal")
    before = sqlite_damage.rows_of_copy(db, wal)
    assert len(before["task_wal"]) == 250 and wal.exists()  # read from copies: the originals untouched
    sqlite_damage.truncate_half(wal, Path(f"{db}-shm"))
    _drop_shm(db)
    after = sqlite_damage.rows_of_copy(db, wal)
    dropped = sqlite_damage.rows_dropped(before, after)["task_wal"]
    assert 0 < len(dropped) <= 200 and len(dropped) + len(after["task_wal"]) == 250
    assert all(str(row[0]) >= "task-0050" for row in dropped)  # the checkpointed rows all survive
    assert sqlite_damage.rows_dropped(before, before) == {}
