"""Hand-made run folders for the report tests, written with core.record (so they are valid records)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.claims import Claim, all_claims, claim
from core.evidence import EffectCheck
from core.record import (
    LoadSummary,
    RunRecord,
    ScenarioEntry,
    ScenarioRecord,
    Timeline,
    control_outcome,
    overall_verdict,
    write_run,
    write_scenario,
)
from core.verdict import Judgement, Verdict, worst

T0 = 1_790_000_000.0
DOMAINS = ("waste", "pipeline", "auth", "userinfo", "location", "recycle", "chat")


def _claim(fid: str) -> Claim:
    """The catalogue's claim, or a stand-in for a scenario outside F1-F17 (a control)."""
    if fid in {c.fid for c in all_claims()}:
        return claim(fid)
    return Claim(fid, f"control {fid}", "worker", "crash:x", 60, "injection", frozenset({"pipeline"}), "X", "spec")


def judgements_for(fid: str, verdict: Verdict, rto_s: float = 12.5) -> list[Judgement]:
    """Judgements whose worst is `verdict` (HARNESS_ERROR comes from errors, so its judgements hold)."""
    c = _claim(fid)
    domain = sorted(c.impact)[0] if c.impact else "pipeline"
    rto = Judgement(
        f"rto:{domain}",
        Verdict.HOLDS,
        rto_s,
        c.rto_limit_s,
        "s",
        {
            "reference": c.rto_from,
            "since": T0 + 10,
            "failed_at": T0 + 10.5,
            "recovered_at": T0 + 10.5 + rto_s,
            "samples": 40,
            "window_s": 60.0,
            "streak": 3,
        },
    )
    rpo = Judgement(
        "upload:rpo",
        Verdict.HOLDS,
        0,
        0,
        "ops",
        {"counts": {"attempted": 40, "acknowledged": 38, "lost": 0, "unexpected": 0}, "samples": {}, "drained": True},
    )
    once = Judgement("upload:exactly_once", Verdict.HOLDS, 0, 0, "ops", {"duplicated": 0, "samples": []})
    iso = Judgement(
        "isolation",
        Verdict.HOLDS,
        0.99,
        0.95,
        "availability",
        {"domains": {"auth": {"availability": 0.99, "samples": 50}}, "violated": []},
    )
    if verdict is Verdict.VIOLATED:
        rpo = Judgement(
            "upload:rpo",
            Verdict.VIOLATED,
            3,
            0,
            "ops",
            {
                "counts": {"attempted": 40, "acknowledged": 38, "lost": 3, "unexpected": 0},
                "samples": {"lost": ["a", "b", "c"]},
                "drained": True,
            },
        )
    if verdict is Verdict.INCONCLUSIVE:
        iso = Judgement(
            "isolation",
            Verdict.INCONCLUSIVE,
            None,
            0.95,
            "availability",
            {"reason": "too few probe samples", "too_few_samples": ["auth"]},
        )
    return [rto, rpo, once, iso]


def scenario(
    fid: str,
    verdict: Verdict = Verdict.HOLDS,
    *,
    end_s: float = 60.0,
    rto_s: float = 12.5,
    judgements: list[Judgement] | None = None,
    **changes: Any,
) -> ScenarioRecord:
    """A consistent scenario record with realistic series; its overall verdict is `verdict`."""
    js = judgements if judgements is not None else judgements_for(fid, verdict, rto_s)
    errors = ["heal of crash failed: container gone"] if verdict is Verdict.HARNESS_ERROR else []
    effect = [EffectCheck(f"fault:{fid}", True, "seen down")]
    injected, healed = 10.0, 20.0
    recovered = min(end_s, injected + rto_s)
    fields: dict[str, Any] = dict(
        fid=fid,
        title=_claim(fid).title,
        time_scale=0.02,
        timeline=Timeline(T0, end_s, injected, healed, recovered, min(end_s, recovered + 15)),
        verdict=overall_verdict(js, errors, effect),
        judgements=js,
        effect=effect,
        parameters={"fault": _claim(fid).fault, "hold_s": 10.0, "users": 6},
        load=_load(end_s),
        probes=_probes(end_s, injected, healed),
        queue_depth=_queues(end_s),
        wal_pending={"worker-storage": [[float(t), 0.0] for t in range(int(end_s))]},
        ledger={
            "upload": {"invoke": 40, "ok": 35, "fail": 2, "info": 3},
            "chat": {"invoke": 60, "ok": 60, "fail": 0, "info": 0},
        },
        errors=errors,
    )
    fields.update(changes)
    return ScenarioRecord(**fields)


def _load(end_s: float) -> LoadSummary:
    per_second = [[float(t), 8 + 3 * math.sin(t / 3), 4.0 if 10 <= t < 20 else 0.0] for t in range(1, int(end_s))]
    return LoadSummary(per_second, {"upload": 40, "chat": 60})


def _probes(end_s: float, injected: float, healed: float) -> dict[str, list[list[float]]]:
    out: dict[str, list[list[float]]] = {}
    for i, d in enumerate(DOMAINS):
        pts = [
            [t / 2 + i * 0.05, 0.0 if d == "waste" and injected <= t / 2 < healed + 2 else 1.0]
            for t in range(int(end_s * 2))
        ]
        out[d] = pts
    return out


def _queues(end_s: float) -> dict[str, list[list[float]]]:
    grow = [[float(t), float(max(0, 25 - abs(t - 20) * 3))] for t in range(int(end_s))]
    return {"user_input_queue": grow, "vision_analysis_queue": [[float(t), 0.0] for t in range(int(end_s))]}


def write(
    run_dir: Path,
    records: list[ScenarioRecord],
    *,
    started: float = T0,
    run_id: str | None = None,
    listed: Mapping[str, Verdict] | None = None,
    build: str = "hardened",
) -> Path:
    """Write the scenarios and a run.json listing them (`listed` overrides a listed verdict)."""
    for rec in records:
        write_scenario(run_dir, rec)
    entries = [
        ScenarioEntry(r.fid, (listed or {}).get(r.fid, r.verdict), f"scenarios/{r.fid}.json", control_outcome(r))
        for r in records
    ]
    write_run(
        run_dir,
        RunRecord(
            run_id or run_dir.name,
            started,
            0.02,
            worst(e.counted for e in entries),
            entries,
            finished_unix=started + 600,
            git_commit="0123456789abcdef0123456789abcdef01234567",
            build=build,
        ),
    )
    return run_dir


def full_run(
    run_dir: Path, verdicts: Mapping[str, Verdict] | None = None, *, started: float = T0, rto_s: float = 12.5
) -> Path:
    """All seventeen failure points (holds unless `verdicts` says otherwise)."""
    recs = [scenario(c.fid, (verdicts or {}).get(c.fid, Verdict.HOLDS), rto_s=rto_s) for c in all_claims()]
    return write(run_dir, recs, started=started)
