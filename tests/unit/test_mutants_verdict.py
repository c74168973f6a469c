"""Judgement serialisation and claim lookup: the exact JSON keys, defaults on the way in, and
error messages that name what is missing or unknown."""

from __future__ import annotations

import pytest

from core.claims import claim
from core.verdict import Judgement, Verdict


def test_to_dict_has_the_documented_keys_and_the_verdict_string() -> None:
    j = Judgement("rto:waste", Verdict.VIOLATED, 42.5, 30.0, "s", {"samples": 9})
    assert j.to_dict() == {
        "claim": "rto:waste",
        "verdict": "violated",
        "measured": 42.5,
        "claimed": 30.0,
        "unit": "s",
        "evidence": {"samples": 9},
    }
    assert Judgement.from_dict(j.to_dict()) == j


def test_from_dict_without_evidence_has_empty_evidence() -> None:
    j = Judgement.from_dict({"claim": "c", "verdict": "holds", "measured": 0, "claimed": 0, "unit": "ops"})
    assert j.evidence == {}


def test_from_dict_names_the_missing_field() -> None:
    with pytest.raises(ValueError, match=r"^judgement is missing field 'unit'$"):
        Judgement.from_dict({"claim": "c", "verdict": "holds", "measured": 0, "claimed": 0})


def test_unknown_failure_point_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown failure point 'F99'; known: F1, F2, F3, "):
        claim("F99")
