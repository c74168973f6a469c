"""F9's audit on hand-made fault results: rows the damage dropped violate, none dropped holds."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from harness.scenario import _audit_wal_rows_kept
from harness.verdict import Verdict


def audit(dropped: dict[str, list[tuple[object, ...]]] | None) -> Any:
    scenario: Any = SimpleNamespace(fault=SimpleNamespace(rows_dropped=dropped), context={})
    [judgement] = _audit_wal_rows_kept(scenario)
    return judgement


def test_a_dropped_row_of_task_wal_violates() -> None:
    j = audit({"task_wal": [("t-1", "image_uploader", "{}", None, "completed")], "gpt_cache": []})
    assert j.verdict is Verdict.VIOLATED and j.measured == 1
    assert j.evidence["sample"] == ["t-1/image_uploader (completed)"]


def test_no_dropped_row_holds_and_other_tables_do_not_count() -> None:
    assert audit({}).verdict is Verdict.HOLDS
    assert audit({"retry_queue": [("t-1", "x", 1, None, 0.0)]}).verdict is Verdict.HOLDS


def test_without_the_faults_comparison_nothing_read_before_is_inconclusive() -> None:
    assert audit(None).verdict is Verdict.INCONCLUSIVE
