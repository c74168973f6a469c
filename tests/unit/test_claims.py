"""The claims table: complete, consistent with the spec, and honest about its sources."""

from __future__ import annotations

import pytest

from core.claims import DOMAINS, GENERAL_RTO_S, all_claims, claim

SPEC_RTO_S = {"F1": 30, "F2": 30, "F4": 120, "F7": 60, "F8": 60, "F11": 300, "F12": 300}


def test_all_seventeen_in_order() -> None:
    assert [c.fid for c in all_claims()] == [f"F{n}" for n in range(1, 18)]


def test_spec_numbers_and_sources() -> None:
    for c in all_claims():
        if c.fid in SPEC_RTO_S:
            assert (c.rto_s, c.source) == (SPEC_RTO_S[c.fid], "spec"), c.fid
        elif c.fid == "F15":  # "until the API recovers": from heal, bounded by the general claim
            assert (c.rto_s, c.rto_from, c.source, c.rto_limit_s) == (None, "heal", "spec", GENERAL_RTO_S)
        else:
            assert (c.rto_s, c.source, c.rto_limit_s) == (None, "general", GENERAL_RTO_S), c.fid
        assert c.rpo_ops == 0


def test_impacts_are_known_nonempty_and_leave_someone_serving() -> None:
    for c in all_claims():
        assert c.impact, c.fid
        assert c.impact <= DOMAINS, c.fid
        assert DOMAINS - c.impact, f"{c.fid} allows every domain to fail: isolation untestable"
    assert claim("F1").impact == {"waste", "pipeline"}
    assert claim("F2").impact == {"auth"}
    assert claim("F4").impact == {"pipeline"}
    assert claim("F11").impact == {"waste", "pipeline", "recycle"}


def test_faults_alerts_and_weaknesses() -> None:
    assert claim("F1").fault == "crash:waste-api"
    assert claim("F10").fault == "cut_network:worker->pg-waste"
    assert claim("F17").fault == "s3_outage"
    assert [claim(f).alert for f in ("F1", "F4", "F7", "F11", "F15")] == [
        "WasteAPIDown", "RabbitMQDown", "WorkerStorageDown", "WasteDBDown", "GPT5APIDown",
    ]  # fmt: skip
    weak = {c.fid for c in all_claims() if c.known_weakness}
    assert {"F4", "F6", "F7", "F9", "F11"} <= weak
    assert all(c.alert and c.fault and c.title for c in all_claims())


def test_lookup() -> None:
    assert claim("f12").fid == "F12"
    with pytest.raises(KeyError, match="F99"):
        claim("F99")
