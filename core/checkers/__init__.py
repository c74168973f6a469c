"""Checkers: pure functions from observations (ledger, audits, probe samples) to Judgements."""

from core.checkers.isolation import DEFAULT_MIN_AVAILABILITY, MIN_SAMPLES, check_isolation
from core.checkers.rpo import RpoAudit, analyse_rpo, check_rpo, judge_exactly_once, judge_rpo
from core.checkers.rto import (
    Recovery,
    Sample,
    availability,
    canary_samples,
    downtime_s,
    judge_rto,
    measure_recovery,
)

__all__ = [
    "DEFAULT_MIN_AVAILABILITY",
    "MIN_SAMPLES",
    "Recovery",
    "RpoAudit",
    "Sample",
    "analyse_rpo",
    "availability",
    "canary_samples",
    "check_isolation",
    "check_rpo",
    "downtime_s",
    "judge_exactly_once",
    "judge_rpo",
    "judge_rto",
    "measure_recovery",
]
