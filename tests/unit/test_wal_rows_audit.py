"""F9's audit on hand-made fault results: a dropped row not done again violates, one redone or
rebuilt holds, a damage that dropped nothing proves nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from core.verdict import Verdict
from harness.scenario import _audit_wal_rows_kept, judge_rows_kept

ROW = ("t-1", "image_uploader", "{}", None, "completed")


def test_a_dropped_row_nobody_did_again_violates() -> None:
    j = judge_rows_kept({"task_wal": [ROW], "gpt_cache": []}, back=set())
    assert j.verdict is Verdict.VIOLATED and j.measured == 1
    evidence: Any = j.evidence
    assert evidence["missing"] == ["t-1/image_uploader"]
    assert evidence["dropped_sample"] == ["t-1/image_uploader (completed)"]


def test_a_dropped_row_redone_or_rebuilt_holds() -> None:
    j = judge_rows_kept({"task_wal": [ROW, ("t-1", "image_uploader", "{}", None, "running")]}, {ROW[:2]})
    evidence: Any = j.evidence
    assert j.verdict is Verdict.HOLDS and j.measured == 0 and evidence["dropped"] == 1


def test_a_damage_that_dropped_no_task_row_is_inconclusive() -> None:
    assert judge_rows_kept({}, set()).verdict is Verdict.INCONCLUSIVE
    assert judge_rows_kept({"wal_meta": [(1, 5, 0.0)]}, set()).verdict is Verdict.INCONCLUSIVE


def test_without_the_faults_comparison_nothing_read_before_is_inconclusive() -> None:
    scenario: Any = SimpleNamespace(fault=SimpleNamespace(rows_dropped=None), context={})
    [j] = _audit_wal_rows_kept(scenario)
    assert j.verdict is Verdict.INCONCLUSIVE
