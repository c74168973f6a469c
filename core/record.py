"""Machine-readable run records: runs/<run_id>/run.json and runs/<run_id>/scenarios/<fid>.json.

Reports are rendered from these files alone, so records are validated on the way out and
on the way in. Format: docs/record-format.md. Times: `t0_unix` is absolute (unix seconds);
every other time in a scenario record is in seconds relative to it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.checkers.rto import Sample
from core.evidence import EffectCheck
from core.verdict import Judgement, Verdict, worst

SCHEMA_VERSION = 1

# what a run puts on trial: the hardened build, or the design as written (system/as_written.py)
BUILDS = HARDENED, AS_WRITTEN = ("hardened", "as-written")


class RecordError(ValueError):
    """A record that does not match the documented format; the message names the field."""


@dataclass(frozen=True)
class Timeline:
    """Phase instants: t0 absolute, the others seconds after t0 (None: that phase did not happen)."""

    t0_unix: float
    end_s: float
    injected_s: float | None = None
    healed_s: float | None = None
    recovered_s: float | None = None
    drained_s: float | None = None


@dataclass(frozen=True)
class LoadSummary:
    """Offered load: per-second [t, requests, failures] and request counts per request name."""

    per_second: list[list[float]] = field(default_factory=list)
    op_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Repeat:
    """One run of a failure point repeated with `--repeat N`: its verdicts and its own record file."""

    n: int  # 1-based
    verdict: Verdict
    judgements: dict[str, Verdict]  # judgement name -> verdict
    path: str  # relative to the run folder


@dataclass(frozen=True)
class ScenarioRecord:
    """Everything one fault scenario observed and concluded."""

    fid: str
    title: str
    time_scale: float
    timeline: Timeline
    verdict: Verdict
    judgements: list[Judgement] = field(default_factory=list)
    effect: list[EffectCheck] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    load: LoadSummary = field(default_factory=LoadSummary)
    probes: dict[str, list[list[float]]] = field(default_factory=dict)  # domain -> [t, 1|0]
    queue_depth: dict[str, list[list[float]]] = field(default_factory=dict)  # queue -> [t, messages]
    wal_pending: dict[str, list[list[float]]] = field(default_factory=dict)  # worker -> [t, rows]
    ledger: dict[str, dict[str, int]] = field(default_factory=dict)  # core.ledger.summarise()
    errors: list[str] = field(default_factory=list)
    # with --repeat N: every repeat that ran (this record is the first of the worst of them)
    repeats: list[Repeat] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario in run.json: its verdict and its file, relative to the run folder.

    `counts_as`: a planted-defect control is expected to come out VIOLATED; for the run it counts
    as HOLDS when its named judgement caught the defect, and as HARNESS_ERROR when it did not."""

    fid: str
    verdict: Verdict
    path: str
    counts_as: Verdict | None = None

    @property
    def counted(self) -> Verdict:
        """What this scenario contributes to the run's verdict."""
        return self.counts_as or self.verdict


@dataclass(frozen=True)
class RunRecord:
    """The run as a whole (run.json)."""

    run_id: str
    started_unix: float
    time_scale: float
    verdict: Verdict
    scenarios: list[ScenarioEntry] = field(default_factory=list)
    finished_unix: float | None = None
    git_commit: str | None = None
    schema_version: int = SCHEMA_VERSION
    build: str = HARDENED  # or the design as written, its own policies on trial
    unsafe: str = ""  # ECOECO_UNSAFE planted in the whole stack for the run ("" none)


def control_outcome(rec: ScenarioRecord) -> Verdict | None:
    """For a planted-defect control (parameters name `must_violate`): HOLDS when that judgement is
    VIOLATED (the defect was caught), else HARNESS_ERROR (the suite missed it); None otherwise."""
    must = rec.parameters.get("must_violate")
    if not must:
        return None
    caught = any(j.claim == must and j.verdict is Verdict.VIOLATED for j in rec.judgements)
    return Verdict.HOLDS if caught else Verdict.HARNESS_ERROR


def overall_verdict(judgements: Iterable[Judgement], errors: Iterable[str], effect: Iterable[EffectCheck]) -> Verdict:
    """Worst judgement; any error adds HARNESS_ERROR; missing or failed effect evidence adds INCONCLUSIVE."""
    verdicts = [j.verdict for j in judgements]
    checks = list(effect)
    if list(errors):
        verdicts.append(Verdict.HARNESS_ERROR)
    if not checks or not all(c.ok for c in checks):  # a fault that did not bite proves nothing
        verdicts.append(Verdict.INCONCLUSIVE)
    return worst(verdicts)


def unjudged_verdict(rec: ScenarioRecord) -> Verdict:
    """What a record shows besides its violations: HOLDS only when every other judgement holds,
    nothing erred and the fault was seen to take effect. The design as written is reviewed by this:
    its violations are findings, anything else still fails. Left out, as following from others: the
    resolution of an alert that never fired (nothing to resolve), and whether the hardened build's
    recovery paths ran (`exercised:`; the design as written has none of them, the outbox among them)."""
    never_fired = {j.claim.removeprefix("detection ") for j in rec.judgements if j.verdict is Verdict.VIOLATED}
    judged = [
        j
        for j in rec.judgements
        if j.verdict is not Verdict.VIOLATED
        and not j.claim.startswith("exercised:")
        and j.claim.removeprefix("detection_resolved ") not in never_fired
    ]
    # one holding stand-in: a record whose only judgements were violated is judged, not "no judgement"
    return overall_verdict([Judgement("judged", Verdict.HOLDS, 0, 0, ""), *judged], rec.errors, rec.effect)


def probe_series(samples: Iterable[Sample], t0_unix: float) -> dict[str, list[list[float]]]:
    """Probe samples as per-domain [t relative to t0, 1|0] points in time order."""
    out: dict[str, list[list[float]]] = {}
    for s in sorted(samples, key=lambda s: s.t):
        out.setdefault(s.domain, []).append([round(s.t - t0_unix, 3), 1 if s.ok else 0])
    return out


# ---- semantic validation ------------------------------------------------------------------


def validate_scenario(rec: ScenarioRecord) -> None:
    """Raise RecordError unless the scenario record is internally consistent."""
    if not rec.fid or not rec.title:
        raise RecordError("fid, title: must be non-empty")
    _positive("time_scale", rec.time_scale)
    tl = rec.timeline
    if tl.t0_unix <= 0 or tl.end_s < 0:
        raise RecordError("timeline: t0_unix must be > 0 and end_s >= 0")
    for name in ("injected_s", "healed_s", "recovered_s", "drained_s"):
        value = getattr(tl, name)
        if value is not None and not 0 <= value <= tl.end_s:
            raise RecordError(f"timeline.{name}: {value} is outside [0, end_s={tl.end_s}]")
    if tl.injected_s is not None and tl.healed_s is not None and tl.healed_s < tl.injected_s:
        raise RecordError("timeline.healed_s: before injected_s")
    series = {"probes": rec.probes, "queue_depth": rec.queue_depth, "wal_pending": rec.wal_pending}
    for name, per_key in series.items():
        for key, points in per_key.items():
            _points(points, f"{name}.{key}", 2)
    _points(rec.load.per_second, "load.per_second", 3)
    expected = overall_verdict(rec.judgements, rec.errors, rec.effect)
    if rec.verdict is not expected:  # e.g. an inconclusive judgement recorded as a pass
        raise RecordError(
            f"verdict: {rec.verdict.value!r} contradicts judgements/errors/effect (expected {expected.value!r})"
        )
    if rec.repeats:  # the record of a repeated point is the worst of its runs, numbered 1..n
        if [r.n for r in rec.repeats] != list(range(1, len(rec.repeats) + 1)):
            raise RecordError("repeats: runs must be numbered 1..n in order")
        if rec.verdict is not worst(r.verdict for r in rec.repeats):
            raise RecordError(f"verdict: {rec.verdict.value!r} is not the worst of its repeats")


def validate_run(rec: RunRecord) -> None:
    """Raise RecordError unless the run record is internally consistent."""
    if not rec.run_id or "/" in rec.run_id or rec.run_id.startswith("."):
        raise RecordError(f"run_id: must be a plain folder name, got {rec.run_id!r}")
    _positive("time_scale", rec.time_scale)
    if rec.build not in BUILDS:
        raise RecordError(f"build: expected one of {', '.join(BUILDS)}, got {rec.build!r}")
    if rec.finished_unix is not None and rec.finished_unix < rec.started_unix:
        raise RecordError("finished_unix: before started_unix")
    fids = [e.fid for e in rec.scenarios]
    if len(fids) != len(set(fids)):
        raise RecordError("scenarios: a failure point is listed twice")
    expected = worst(e.counted for e in rec.scenarios)
    if rec.verdict is not expected:
        raise RecordError(f"verdict: {rec.verdict.value!r} contradicts the scenarios (expected {expected.value!r})")


def _positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise RecordError(f"{name}: must be a positive number, got {value!r}")


def _points(points: object, where: str, width: int) -> list[list[float]]:
    """Check a list of fixed-width numeric points with non-decreasing time (first element)."""
    if not isinstance(points, list):
        raise RecordError(f"{where}: expected a list of points")
    last = -math.inf
    for i, p in enumerate(points):
        if not (isinstance(p, list | tuple) and len(p) == width and all(_is_number(x) for x in p)):
            raise RecordError(f"{where}[{i}]: expected {width} numbers, got {p!r}")
        if p[0] < last:
            raise RecordError(f"{where}[{i}]: time goes backwards ({p[0]} after {last})")
        last = p[0]
    return points


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


# ---- JSON ----------------------------------------------------------------------------------


def to_json(rec: ScenarioRecord | RunRecord) -> str:
    """Validate and serialise a scenario or run record as JSON (verdicts as their string values)."""
    if isinstance(rec, ScenarioRecord):
        validate_scenario(rec)
    else:
        validate_run(rec)
    # Verdict is a StrEnum, so asdict + json render it as its plain string value. Compact: probe
    # series are long; `python -m json.tool` pretty-prints for a human.
    try:
        return json.dumps(asdict(rec), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # e.g. a set or NaN inside some evidence
        raise RecordError(f"not serialisable as JSON: {exc}") from exc


def scenario_from_json(text: str) -> ScenarioRecord:
    """Parse and validate a scenario record; RecordError names the bad field."""
    return _parse_scenario(_load(text))


def run_from_json(text: str) -> RunRecord:
    """Parse and validate a run record; RecordError names the bad field."""
    return _parse_run(_load(text))


def _load(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RecordError("record: expected a JSON object")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise RecordError(f"schema_version: expected {SCHEMA_VERSION}, got {data.get('schema_version')!r}")
    return data


# ---- parsing: JSON types checked field by field, the path of a bad field in the message ----


def _field(data: object, key: str, where: str, kind: type, optional: bool = False) -> Any:
    if not isinstance(data, dict):
        raise RecordError(f"{where}: expected an object")
    value = data.get(key)
    if value is None:
        if optional:
            return None
        raise RecordError(f"{where}.{key}: missing")
    if kind is float:
        if not _is_number(value):
            raise RecordError(f"{where}.{key}: expected a finite number, got {value!r}")
        return float(value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise RecordError(f"{where}.{key}: expected an integer, got {value!r}")
    if not isinstance(value, kind):
        raise RecordError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _verdict(data: object, where: str) -> Verdict:
    value = _field(data, "verdict", where, str)
    try:
        return Verdict(value)
    except ValueError:
        raise RecordError(f"{where}.verdict: unknown verdict {value!r}") from None


def _series(data: object, key: str) -> dict[str, list[list[float]]]:
    return {name: _points(points, f"{key}.{name}", 2) for name, points in _field(data, key, "scenario", dict).items()}


def _parse_scenario(d: dict[str, Any]) -> ScenarioRecord:
    tl = _field(d, "timeline", "scenario", dict)
    optional = {
        k: _field(tl, k, "timeline", float, True) for k in ("injected_s", "healed_s", "recovered_s", "drained_s")
    }
    timeline = Timeline(_field(tl, "t0_unix", "timeline", float), _field(tl, "end_s", "timeline", float), **optional)
    effect = [
        EffectCheck(
            _field(e, "check", f"effect[{i}]", str),
            _field(e, "ok", f"effect[{i}]", bool),
            _field(e, "detail", f"effect[{i}]", str, True) or "",
        )
        for i, e in enumerate(_field(d, "effect", "scenario", list))
    ]
    judgements = []
    for i, j in enumerate(_field(d, "judgements", "scenario", list)):
        try:
            judgements.append(Judgement.from_dict(j if isinstance(j, dict) else {}))
        except ValueError as exc:
            raise RecordError(f"judgements[{i}]: {exc}") from exc
    load = _field(d, "load", "scenario", dict)
    repeats = _field(d, "repeats", "scenario", list, True) or []
    errors = _field(d, "errors", "scenario", list)
    if not all(isinstance(e, str) for e in errors):
        raise RecordError("errors: expected a list of strings")
    rec = ScenarioRecord(
        fid=_field(d, "fid", "scenario", str),
        title=_field(d, "title", "scenario", str),
        time_scale=_field(d, "time_scale", "scenario", float),
        timeline=timeline,
        verdict=_verdict(d, "scenario"),
        judgements=judgements,
        effect=effect,
        parameters=_field(d, "parameters", "scenario", dict),
        load=LoadSummary(
            _points(_field(load, "per_second", "load", list), "load.per_second", 3),
            _field(load, "op_counts", "load", dict),
        ),
        probes=_series(d, "probes"),
        queue_depth=_series(d, "queue_depth"),
        wal_pending=_series(d, "wal_pending"),
        ledger=_field(d, "ledger", "scenario", dict),
        errors=errors,
        repeats=[_parse_repeat(r, f"repeats[{i}]") for i, r in enumerate(repeats)],
    )
    validate_scenario(rec)
    return rec


def _parse_repeat(r: object, where: str) -> Repeat:
    judgements = _field(r, "judgements", where, dict)
    if not all(v in set(Verdict) for v in judgements.values()):
        raise RecordError(f"{where}.judgements: every value must be a verdict")
    return Repeat(
        n=_field(r, "n", where, int),
        verdict=_verdict(r, where),
        judgements={k: Verdict(v) for k, v in judgements.items()},
        path=_field(r, "path", where, str),
    )


def _parse_run(d: dict[str, Any]) -> RunRecord:
    entries = [
        ScenarioEntry(
            _field(e, "fid", f"scenarios[{i}]", str),
            _verdict(e, f"scenarios[{i}]"),
            _field(e, "path", f"scenarios[{i}]", str),
            Verdict(e["counts_as"]) if isinstance(e, dict) and e.get("counts_as") in set(Verdict) else None,
        )
        for i, e in enumerate(_field(d, "scenarios", "run", list))
    ]
    rec = RunRecord(
        run_id=_field(d, "run_id", "run", str),
        started_unix=_field(d, "started_unix", "run", float),
        time_scale=_field(d, "time_scale", "run", float),
        verdict=_verdict(d, "run"),
        scenarios=entries,
        finished_unix=_field(d, "finished_unix", "run", float, True),
        git_commit=_field(d, "git_commit", "run", str, True),
        build=_field(d, "build", "run", str, True) or HARDENED,  # runs before the field: hardened
        unsafe=_field(d, "unsafe", "run", str, True) or "",
    )
    validate_run(rec)
    return rec


# ---- files ---------------------------------------------------------------------------------


def write_scenario(run_dir: Path | str, rec: ScenarioRecord) -> Path:
    """Write runs/<run_id>/scenarios/<fid>.json (atomically: a reader never sees half a file)."""
    return _write(Path(run_dir) / "scenarios" / f"{rec.fid}.json", to_json(rec))


def read_scenario(path: Path | str) -> ScenarioRecord:
    """Read and validate one scenario record file."""
    return scenario_from_json(Path(path).read_text(encoding="utf-8"))


def write_run(run_dir: Path | str, rec: RunRecord) -> Path:
    """Write runs/<run_id>/run.json atomically."""
    return _write(Path(run_dir) / "run.json", to_json(rec))


def read_run(path: Path | str) -> RunRecord:
    """Read and validate run.json (pass the file or the run folder)."""
    p = Path(path)
    return run_from_json((p / "run.json" if p.is_dir() else p).read_text(encoding="utf-8"))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
