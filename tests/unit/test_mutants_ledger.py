"""Ledger format and outcome folding on hand-made lines and histories: the compact JSON form,
missing optional fields, error messages, nested ledger folders, undecodable bytes, blank lines,
and how retries of one id fold into one outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.ledger import LedgerError, LedgerWriter, Op, outcomes, parse_lines, read_ledger, summarise


def test_op_json_is_one_compact_line() -> None:
    op = Op(1.5, "load", "ok", "upload", "t1", "boom")
    assert op.to_json() == '{"time":1.5,"process":"load","type":"ok","f":"upload","id":"t1","error":"boom"}'


def test_op_without_error_field_has_no_error() -> None:
    op = Op.from_json('{"time": 1, "process": "p", "type": "invoke", "f": "upload", "id": "t1"}')
    assert op == Op(1.0, "p", "invoke", "upload", "t1", None)
    assert op.error is None


def test_malformed_line_message_says_it_is_not_an_op() -> None:
    with pytest.raises(LedgerError, match=r"^not a ledger op: "):
        Op.from_json('{"time": 1}')


def test_writer_creates_nested_folders_and_records_errors(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ledger.jsonl"
    with LedgerWriter(path, "load-1") as w:
        op = w.record("fail", "upload", "t1", error="HTTP 503")
    assert (op.process, op.type, op.f, op.id, op.error) == ("load-1", "fail", "upload", "t1", "HTTP 503")
    assert read_ledger(path) == [op]


def test_undecodable_bytes_are_replaced_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b'{"time":1,"process":"p\xff","type":"ok","f":"upload","id":"t1"}\n')
    assert read_ledger(path) == [Op(1.0, "p\ufffd", "ok", "upload", "t1")]


def test_blank_lines_in_the_middle_are_skipped() -> None:
    lines = [Op(1, "p", "invoke", "u", "a").to_json(), "", "   ", Op(2, "p", "ok", "u", "a").to_json()]
    assert [o.type for o in parse_lines(lines)] == ["invoke", "ok"]


def test_every_retry_that_completed_counts_towards_the_invokes() -> None:
    ops = [
        Op(1, "p", "invoke", "u", "a"),
        Op(2, "p", "fail", "u", "a"),
        Op(3, "p", "invoke", "u", "a"),
        Op(4, "p", "fail", "u", "a"),
    ]
    assert outcomes(ops) == {("u", "a"): "fail"}


def test_a_weaker_later_completion_does_not_downgrade_ok() -> None:
    ops = [
        Op(1, "p", "invoke", "u", "a"),
        Op(2, "p", "ok", "u", "a"),
        Op(3, "p", "invoke", "u", "a"),
        Op(4, "p", "fail", "u", "a"),
    ]
    assert outcomes(ops) == {("u", "a"): "ok"}


def test_an_unfinished_retry_does_not_downgrade_ok() -> None:
    ops = [Op(1, "p", "invoke", "u", "a"), Op(2, "p", "ok", "u", "a"), Op(3, "p", "invoke", "u", "a")]
    assert outcomes(ops) == {("u", "a"): "ok"}


def test_summary_counts_invocations_and_final_outcomes_per_kind() -> None:
    ops = [
        Op(1, "p", "invoke", "u", "a"),
        Op(2, "p", "ok", "u", "a"),
        Op(3, "p", "invoke", "u", "b"),
        Op(4, "p", "invoke", "c", "x"),
        Op(5, "p", "fail", "c", "x"),
    ]
    assert summarise(ops) == {
        "u": {"invoke": 2, "ok": 1, "fail": 0, "info": 1},
        "c": {"invoke": 1, "ok": 0, "fail": 1, "info": 0},
    }
