"""The accepted-findings file and the per-scenario gate, on hand-made judgements."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import findings
from core.findings import Finding, FindingsError
from core.verdict import Judgement, Verdict
from scenarios.catalogue import ACCEPTED, IDS

ONE = """
[[finding]]
failure_point = "F9"
judgement = "wal_rows_kept"
reason = "drops rows"
shown_by = "runs/x"
fix = "detect it"
"""
ACC = findings.parse(ONE)


def j(claim: str, verdict: Verdict) -> Judgement:
    return Judgement(claim, verdict, 0, 0, "ops")


def test_parse_reads_every_field_and_refuses_gaps_duplicates_and_unknown_fields() -> None:
    got = findings.parse(ONE)
    assert got == {("F9", "wal_rows_kept"): Finding("F9", "wal_rows_kept", "drops rows", "runs/x", "detect it")}
    two = ONE + ONE.replace('"wal_rows_kept"', '"detection WALCorruption"')
    assert list(findings.parse(two)) == [("F9", "wal_rows_kept"), ("F9", "detection WALCorruption")]
    with pytest.raises(FindingsError, match=r"^accepted findings: finding 1: missing \['fix'\], unknown \[\]$"):
        findings.parse(ONE.replace('fix = "detect it"', ""))
    with pytest.raises(FindingsError, match=r"^f.toml: finding 2: missing \['reason'\]"):
        findings.parse(ONE + ONE.replace('"drops rows"', '"  "'), "f.toml")
    with pytest.raises(FindingsError, match=r"^accepted findings: finding 2: F9 wal_rows_kept is listed twice$"):
        findings.parse(ONE + ONE)
    with pytest.raises(FindingsError, match=r"unknown \['until'\]"):
        findings.parse(ONE + 'until = "2027"\n')
    with pytest.raises(FindingsError, match=r"^accepted findings: not TOML"):
        findings.parse("[[finding]\n")
    assert findings.parse("") == {}


def test_load_reads_the_given_file_then_the_environment_then_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given, named = tmp_path / "given.toml", tmp_path / "named.toml"
    given.write_text(ONE, encoding="utf-8")
    named.write_text(ONE.replace('"F9"', '"F8"') + "# é\n", encoding="utf-8")
    monkeypatch.setenv("ECOECO_ACCEPTED_FINDINGS", str(named))
    assert list(findings.load(given)) == [("F9", "wal_rows_kept")]
    assert list(findings.load()) == [("F8", "wal_rows_kept")]
    monkeypatch.delenv("ECOECO_ACCEPTED_FINDINGS")
    assert findings.load() == findings.parse(findings.ACCEPTED_PATH.read_text(encoding="utf-8"))
    assert findings.ACCEPTED_PATH.name == "accepted-findings.toml"
    assert findings.load(tmp_path / "absent.toml") == {}
    broken = tmp_path / "broken.toml"
    broken.write_text("[[finding]]\n", encoding="utf-8")
    with pytest.raises(FindingsError, match=f"^{re.escape(str(broken))}: finding 1: missing"):
        findings.load(broken)


def test_the_repository_file_names_real_scenarios_and_feeds_the_catalogue() -> None:
    # empty today (F9 fixed): whatever it lists must name real scenarios
    assert {fid for fid, _ in ACCEPTED} <= set(IDS)
    assert findings.known_false("F9", ACC) == {"wal_rows_kept": "drops rows"}
    assert findings.known_false("F8", ACC) == {}


def test_an_accepted_violation_alone_passes_the_gate() -> None:
    js = [j("wal_rows_kept", Verdict.VIOLATED), j("upload:rpo", Verdict.HOLDS)]
    g = findings.gate("F9", Verdict.VIOLATED, js, Verdict.HOLDS, ACC)
    assert g.verdict is Verdict.HOLDS and g.accepted == ("wal_rows_kept",) and g.new == () and g.stale == ()


def test_a_new_violation_beside_an_accepted_one_fails_it() -> None:
    js = [j("wal_rows_kept", Verdict.VIOLATED), j("upload:rpo", Verdict.VIOLATED)]
    g = findings.gate("F9", Verdict.VIOLATED, js, Verdict.VIOLATED, ACC)
    assert g.verdict is Verdict.VIOLATED and g.new == ("upload:rpo",) and g.accepted == ("wal_rows_kept",)


def test_the_same_judgement_of_another_scenario_is_not_accepted() -> None:
    js = [j("wal_rows_kept", Verdict.VIOLATED)]
    g = findings.gate("F8", Verdict.VIOLATED, js, Verdict.VIOLATED, ACC)
    assert g.verdict is Verdict.VIOLATED and g.new == ("wal_rows_kept",) and g.accepted == ()


def test_an_accepted_finding_that_held_is_stale_and_fails() -> None:
    js = [j("wal_rows_kept", Verdict.HOLDS)]
    g = findings.gate("F9", Verdict.HOLDS, js, Verdict.HOLDS, ACC)
    assert g.verdict is Verdict.VIOLATED and g.stale == ("wal_rows_kept",)


@pytest.mark.parametrize("other", [Verdict.INCONCLUSIVE, Verdict.HARNESS_ERROR])
def test_what_else_is_wrong_with_the_scenario_still_counts(other: Verdict) -> None:
    # the rest (fault evidence, errors, other judgements) decides, not the accepted violation
    js = [j("wal_rows_kept", Verdict.VIOLATED)]
    assert findings.gate("F9", Verdict.VIOLATED, js, other, ACC).verdict is other
    # an accepted judgement that could not be decided is not accepted
    assert findings.gate("F9", other, [j("wal_rows_kept", other)], Verdict.HOLDS, ACC).verdict is other


def test_an_unreadable_record_keeps_its_recorded_verdict_and_its_findings_sorted() -> None:
    js = [j("wal_rows_kept", Verdict.VIOLATED), j("upload:rpo", Verdict.VIOLATED)]
    g = findings.gate("F9", Verdict.VIOLATED, js, None, ACC)
    assert (g.verdict, g.new, g.accepted, g.stale) == (Verdict.VIOLATED, ("upload:rpo",), ("wal_rows_kept",), ())
    held = findings.gate("F9", Verdict.HOLDS, [j("wal_rows_kept", Verdict.HOLDS)], None, ACC)
    assert (held.verdict, held.accepted, held.stale) == (Verdict.HOLDS, (), ("wal_rows_kept",))


def test_a_finding_names_the_verdict_it_accepts() -> None:
    text = ONE.replace('fix = "detect it"', 'fix = "detect it"\nverdict = "inconclusive"')
    acc = findings.parse(text)
    assert acc[("F9", "wal_rows_kept")].verdict is Verdict.INCONCLUSIVE
    assert findings.parse(ONE)[("F9", "wal_rows_kept")].verdict is Verdict.VIOLATED
    for bad in ("holds", "harness_error", "nope"):
        with pytest.raises(FindingsError, match=f"verdict '{bad}' cannot be accepted"):
            findings.parse(ONE.replace('fix = "detect it"', f'fix = "detect it"\nverdict = "{bad}"'))
    g = findings.gate("F9", Verdict.INCONCLUSIVE, [j("wal_rows_kept", Verdict.INCONCLUSIVE)], Verdict.HOLDS, acc)
    assert g.verdict is Verdict.HOLDS and g.accepted == ("wal_rows_kept",)
    # accepted as inconclusive, shown violated: a violation the file does not accept
    g = findings.gate("F9", Verdict.VIOLATED, [j("wal_rows_kept", Verdict.VIOLATED)], Verdict.HOLDS, acc)
    assert g.verdict is Verdict.VIOLATED and g.accepted == () and g.new == ("wal_rows_kept",)
