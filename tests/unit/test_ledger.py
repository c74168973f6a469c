"""Ledger: writing, torn-line tolerant reading, outcome folding and summaries."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.ledger import LedgerError, LedgerWriter, Op, outcomes, outcomes_for, read_ledger, summarise


def op(t: str, f: str, i: str, time: float = 1.0) -> Op:
    return Op(time=time, process="p0", type=t, f=f, id=i)  # type: ignore[arg-type]


def test_round_trip_from_many_threads(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    with LedgerWriter(path, "load") as writer:

        def work(n: int) -> None:
            for k in range(200):
                writer.record("invoke", "upload", f"{n}-{k}")
                writer.record("ok", "upload", f"{n}-{k}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    ops = read_ledger(path)
    assert len(ops) == 1600
    assert summarise(ops) == {"upload": {"invoke": 800, "ok": 800, "fail": 0, "info": 0}}
    assert all(o.process == "load" for o in ops)


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text(op("invoke", "upload", "a").to_json() + "\n" + '{"time": 2.0, "proc')
    assert [o.id for o in read_ledger(path)] == ["a"]


def test_corrupt_middle_line_raises_with_line_number(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text("\n".join([op("invoke", "upload", "a").to_json(), "garbage", op("ok", "upload", "a").to_json()]))
    with pytest.raises(LedgerError, match="line 2"):
        read_ledger(path)


def test_missing_file_is_empty_history(tmp_path: Path) -> None:
    assert read_ledger(tmp_path / "absent.jsonl") == []


def test_unknown_op_type_is_rejected() -> None:
    with pytest.raises(LedgerError, match="unknown op type"):
        Op.from_json('{"time": 1, "process": "p", "type": "maybe", "f": "upload", "id": "a"}')


def test_op_json_round_trip() -> None:
    original = Op(time=3.5, process="canary", type="fail", f="chat", id="m1", error="503")
    assert Op.from_json(original.to_json()) == original


def test_outcomes_fold_retries_and_unfinished_invokes() -> None:
    ops = [
        op("invoke", "upload", "done"), op("ok", "upload", "done"),
        op("invoke", "upload", "pending"),  # never completed: unknown
        op("invoke", "upload", "no"), op("fail", "upload", "no"),
        op("invoke", "upload", "retried"), op("fail", "upload", "retried"),
        op("invoke", "upload", "retried"), op("ok", "upload", "retried"),  # ok wins
        op("invoke", "upload", "half"), op("fail", "upload", "half"),
        op("invoke", "upload", "half"),  # second attempt never answered: may have happened
        op("invoke", "upload", "timeout"), op("info", "upload", "timeout"),
        op("invoke", "chat", "done"), op("fail", "chat", "done"),
    ]  # fmt: skip
    result = outcomes(ops)
    assert result[("upload", "done")] == "ok"
    assert result[("upload", "pending")] == "info"
    assert result[("upload", "no")] == "fail"
    assert result[("upload", "retried")] == "ok"
    assert result[("upload", "half")] == "info"
    assert result[("upload", "timeout")] == "info"
    assert result[("chat", "done")] == "fail"  # keyed by (f, id): kinds never mix
    assert outcomes_for(ops, "chat") == {"done": "fail"}
    summary = summarise(ops)
    assert summary["upload"] == {"invoke": 8, "ok": 2, "fail": 1, "info": 3}
    assert summary["chat"] == {"invoke": 1, "ok": 0, "fail": 1, "info": 0}
