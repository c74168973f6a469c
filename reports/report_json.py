"""report.json: the report for machines (schema in docs/reports.md)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from core.verdict import Verdict
from reports import design_review, detection, lint_table, repeats, timing, trend
from reports.compare import Comparison
from reports.gate import gate
from reports.runs import LoadedRun
from reports.scorecard import Row

SCHEMA = "ecoeco-report"
SCHEMA_VERSION = 1


def document(
    run: LoadedRun,
    rows: list[Row],
    comparison: Comparison | None,
    files: dict[str, str | None],
    history: trend.Trend,
    review: design_review.Review | None = None,
) -> str:
    """The JSON text of report.json (pretty-printed: it is small and people read it in CI logs)."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_unix": round(time.time(), 3),
        "run": {
            "run_id": run.run_id,
            "dir": str(run.run_dir),
            "started_unix": run.started_unix,
            "finished_unix": run.finished_unix,
            "git_commit": run.git_commit,
            "time_scale": run.time_scale,
            "build": run.build,
        },
        "verdict": run.verdict.value,
        "exit_code": gate(run).exit_code,  # the gate's: accepted findings set aside
        "counts": counts(rows),
        "problems": list(run.problems),
        "gate": gate(run).to_dict(),
        "lint": lint_table.to_json(run.time_scale),
        "time_s": {
            "per_scenario": {t.fid: {**t.phases, "total": t.total_s} for t in timing.times(run)},
            "per_phase": timing.totals(timing.times(run)),
        },
        "scenarios": [_scenario(r) for r in rows],
        "previous": _previous(comparison) if comparison else None,
        "detection": _detection(run),
        "trend": trend.json_doc(history),
        "files": files,
    }
    if review is not None:
        doc["design_review"] = review.to_dict()
    return json.dumps(doc, indent=1, sort_keys=False, allow_nan=False, default=str) + "\n"


def counts(rows: list[Row]) -> dict[str, int]:
    """Failure points per verdict, plus not_run and known_false (violated and listed as known false)."""
    out = {v.value: sum(1 for r in rows if r.verdict is v) for v in Verdict}
    out["not_run"] = sum(1 for r in rows if r.verdict is None)
    out["known_false"] = sum(1 for r in rows if r.known_false and r.verdict is Verdict.VIOLATED)
    return out


def _scenario(r: Row) -> dict[str, Any]:
    rec = r.scenario.record if r.scenario else None
    c = r.claim
    return {
        "fid": c.fid,
        "title": rec.title if rec else c.title,
        "ran": r.scenario is not None,
        "verdict": r.verdict.value if r.verdict else None,
        "label": r.label,
        "reason": r.reason,
        "known_false": r.known_false,
        "problem": r.scenario.problem if r.scenario else None,
        "catalogued": r.catalogued,
        "claimed": {
            "rto_s": c.rto_s,
            "rto_limit_s": c.rto_limit_s,
            "rto_from": c.rto_from,
            "rpo_ops": c.rpo_ops,
            "impact": sorted(c.impact),
            "alert": c.alert,
        }
        if r.catalogued
        else None,
        "timeline": asdict(rec.timeline) if rec else None,
        "repeats": repeats.json_entry(rec),
        "scorecard": {
            name: {"verdict": cell.verdict.value if cell.verdict else None, "text": cell.text, "note": cell.note}
            for name, cell in (
                ("detected", r.detected),
                ("isolated", r.isolated),
                ("rto", r.rto),
                ("rpo", r.rpo),
                ("exactly_once", r.exactly_once),
                ("other", r.other),
            )
        },
        "claims": [
            {"claim": j.claim, "verdict": j.verdict.value, "measured": j.measured, "claimed": j.claimed, "unit": j.unit}
            for j in (rec.judgements if rec else [])
        ],
    }


def _previous(c: Comparison) -> dict[str, Any]:
    return {
        "run_id": c.previous_run_id,
        "verdict": c.previous_verdict.value,
        "moves": {d: c.count(d) for d in ("better", "worse", "same", "new", "not run")},
        "changes": [
            {
                "fid": ch.fid,
                "before": ch.before.value if ch.before else None,
                "after": ch.after.value if ch.after else None,
                "direction": ch.direction,
                "deltas": [
                    {
                        "claim": d.claim,
                        "unit": d.unit,
                        "before": d.before,
                        "after": d.after,
                        "change": d.change,
                        "verdict_before": d.verdict_before.value,
                        "verdict_after": d.verdict_after.value,
                    }
                    for d in ch.deltas
                ],
            }
            for ch in c.changes
        ],
    }


def _detection(run: LoadedRun) -> dict[str, Any] | None:
    found = detection.score(run)
    if found is None:
        return None
    return {
        "caught": found.caught,
        "defects": len(found.results),
        "planted": found.planted,
        "complete": found.complete,
        "results": [
            {
                "defect": r.defect,
                "control": r.control,
                "point": r.point,
                "judgement": r.must_violate,
                "verdict": r.verdict.value if r.verdict else None,
                "caught": r.caught,
                "covered_by": r.covered_by or None,
                "why_equivalent": r.why_equivalent or None,
            }
            for r in found.results
        ],
    }
