"""Reading a run folder for the report: tolerant, so a broken record shows up as a harness error, not a crash."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core import findings
from core.findings import Finding, FindingsError, Gated
from core.record import AS_WRITTEN, HARDENED, RecordError, ScenarioRecord, read_run, read_scenario, unjudged_verdict
from core.verdict import Judgement, Verdict, worst

_FID = re.compile(r"^F(\d+)$")


def fid_order(fid: str) -> tuple[int, str]:
    """Sort key putting F2 before F10."""
    m = _FID.match(fid)
    return (int(m.group(1)) if m else 10_000, fid)


@dataclass(frozen=True)
class LoadedScenario:
    """One scenario of the run: its record, or the reason it could not be read (then a harness error)."""

    fid: str
    verdict: Verdict
    path: Path
    record: ScenarioRecord | None  # None: unreadable, or not read in full (load_run(full=False))
    problem: str | None = None
    judgements: tuple[Judgement, ...] = ()
    counts_as: Verdict | None = None  # a planted-defect control: HOLDS if caught (core.record.control_outcome)

    @property
    def point_fid(self) -> str | None:
        """The design's failure point ("F10") whose plan the record ran (a mode or a control of it
        included); None without a readable plan."""
        point = (self.record.parameters.get("point") or {}) if self.record else {}
        return str(point["fid"]) if point.get("fid") else None

    @property
    def is_control(self) -> bool:
        """A planted-defect control rather than a scenario of the system as built."""
        return self.counts_as is not None


@dataclass(frozen=True)
class LoadedRun:
    """What a report renders: run.json's facts, each scenario, and every problem met while reading."""

    run_dir: Path
    run_id: str
    started_unix: float | None
    finished_unix: float | None
    git_commit: str | None
    time_scale: float | None
    scenarios: list[LoadedScenario]
    recorded_verdict: Verdict | None = None
    problems: list[str] = field(default_factory=list)
    accepted: Mapping[tuple[str, str], Finding] = field(default_factory=dict)  # accepted-findings.toml
    build: str = HARDENED  # what was on trial: the hardened build, or the design as written

    @property
    def verdict(self) -> Verdict:
        """Worst of run.json's verdict, every scenario's, and HARNESS_ERROR for an unreadable run.json."""
        verdicts = [s.counts_as or s.verdict for s in self.scenarios]
        if self.recorded_verdict is not None:
            verdicts.append(self.recorded_verdict)
        if self.problems:
            verdicts.append(Verdict.HARNESS_ERROR)
        return worst(verdicts)

    def gated(self, s: LoadedScenario) -> Gated:
        """One scenario as the gate counts it: its accepted findings set aside, nothing else."""
        if s.counts_as is not None:
            return Gated(s.counts_as)
        if s.record is None:  # unreadable: the recorded verdict stands
            return findings.gate(s.fid, s.verdict, s.judgements, None, self.accepted)
        return findings.gate_record(s.record, self.accepted)

    @property
    def as_written(self) -> bool:
        """The design as written was on trial: a review, not a gate (reports.design_review)."""
        return self.build == AS_WRITTEN

    @property
    def gate_verdict(self) -> Verdict:
        """What a pipeline gates on: the run's verdict with accepted findings set aside (a stale
        acceptance counts as violated); the scenarios decide it, and any reading problem is an error.
        For the design as written, violations are the review's findings: only a run that could not
        judge (inconclusive, harness error) fails."""
        if self.as_written:
            found = [unjudged_verdict(s.record) if s.record is not None else s.verdict for s in self.scenarios]
            found = [Verdict.HARNESS_ERROR if v is Verdict.VIOLATED else v for v in found]  # unreadable record
            return worst([*found, *([Verdict.HARNESS_ERROR] if self.problems else [])])
        verdicts = [self.gated(s).verdict for s in self.scenarios]
        if self.problems:
            verdicts.append(Verdict.HARNESS_ERROR)
        return worst(verdicts)

    def scenario(self, fid: str) -> LoadedScenario | None:
        """The scenario of one failure point, if it ran."""
        return next((s for s in self.scenarios if s.fid == fid), None)


def load_run(run_dir: Path, *, full: bool = True) -> LoadedRun:
    """Read run.json and every scenario it lists; without a valid run.json, the scenario files found.

    full=False reads only each scenario's verdict and judgements, unvalidated: enough to compare with,
    and validating every series point of the previous run would double the build time.
    """
    run_dir = run_dir.resolve()
    load = _load_scenario if full else _load_judgements
    problems: list[str] = []
    try:
        accepted = findings.load()
    except (OSError, FindingsError) as exc:
        accepted, problems = {}, [f"accepted findings unreadable: {exc}"]
    try:
        run = read_run(run_dir)
    except (OSError, RecordError, UnicodeDecodeError) as exc:
        found = sorted((run_dir / "scenarios").glob("*.json"), key=lambda p: fid_order(p.stem))
        return LoadedRun(
            run_dir,
            run_dir.name,
            _started_unix(run_dir),
            None,
            None,
            None,
            [load(p.stem, p, None) for p in found],
            problems=[*problems, f"run.json unreadable: {exc}"],
            accepted=accepted,
        )
    scenarios = [replace(load(e.fid, run_dir / e.path, e.verdict), counts_as=e.counts_as) for e in run.scenarios]
    scenarios.sort(key=lambda s: fid_order(s.fid))
    return LoadedRun(
        run_dir,
        run.run_id,
        run.started_unix,
        run.finished_unix,
        run.git_commit,
        run.time_scale,
        scenarios,
        recorded_verdict=run.verdict,
        problems=problems,
        accepted=accepted,
        build=run.build,
    )


def _load_scenario(fid: str, path: Path, listed: Verdict | None) -> LoadedScenario:
    try:
        record = read_scenario(path)
    except FileNotFoundError:
        return LoadedScenario(fid, Verdict.HARNESS_ERROR, path, None, f"record missing: {path.name}")
    except (OSError, RecordError, UnicodeDecodeError) as exc:
        return LoadedScenario(fid, Verdict.HARNESS_ERROR, path, None, f"record malformed: {exc}")
    if record.fid != fid:
        return LoadedScenario(
            fid, Verdict.HARNESS_ERROR, path, record, f"run.json lists {fid} but the record is {record.fid}"
        )
    if listed is not None and listed is not record.verdict:  # the journal and the record disagree
        return LoadedScenario(
            fid,
            Verdict.HARNESS_ERROR,
            path,
            record,
            f"run.json says {listed.value} but the record says {record.verdict.value}",
        )
    return LoadedScenario(fid, record.verdict, path, record, judgements=tuple(record.judgements))


def _load_judgements(fid: str, path: Path, listed: Verdict | None) -> LoadedScenario:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        verdict = Verdict(data["verdict"])
        judgements = tuple(Judgement.from_dict(j) for j in data["judgements"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return LoadedScenario(fid, Verdict.HARNESS_ERROR, path, None, f"record unreadable: {exc!r}")
    return LoadedScenario(fid, listed or verdict, path, None, judgements=judgements)


def _loose(run_dir: Path) -> tuple[float | None, frozenset[str], str]:
    """started_unix, scenario fids and build of a run.json read loosely (ordering runs, even ones
    that fail validation); the build names any defect planted in the whole stack too."""
    try:
        data = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        value, entries = data.get("started_unix"), data.get("scenarios") or []
        fids = frozenset(str(e.get("fid")) for e in entries if isinstance(e, dict))
        build = str(data.get("build") or HARDENED)
        if data.get("unsafe"):  # a stack with planted defects is a build of its own
            build += f"+{data['unsafe']}"
    except (OSError, ValueError, AttributeError, TypeError):
        return None, frozenset(), HARDENED
    return (float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None), fids, build


def _started_unix(run_dir: Path) -> float | None:
    return _loose(run_dir)[0]


def _runs_before(
    run_dir: Path, started: float | None, build: str | None = None
) -> list[tuple[float, frozenset[str], Path]]:
    """The other runs of the same runs/ folder that started before `started` (every one when it is
    unknown), have a readable start and put the same build on trial as this one (or `build`):
    (started, scenario fids, folder). A run of the design as written is never another's history."""
    here = run_dir.resolve()
    build = build or _loose(here)[2]
    found = []
    for other in here.parent.iterdir():
        if other.is_symlink() or not other.is_dir() or other.resolve() == here:
            continue  # runs/latest points at some run: never compare a run with itself
        when, fids, theirs = _loose(other)
        if when is not None and (started is None or when < started) and theirs == build:
            found.append((when, fids, other))
    return found


def latest_hardened_runs(run: LoadedRun) -> dict[str, Path]:
    """For each scenario of `run`, the newest run of the hardened build in the same runs/ folder
    that has it, whenever it ran (the design review's other column)."""
    newest: dict[str, tuple[float, Path]] = {}
    for when, fids, other in _runs_before(run.run_dir, None, HARDENED):
        for sid in fids & {s.fid for s in run.scenarios}:
            if sid not in newest or when > newest[sid][0]:
                newest[sid] = (when, other)
    return {sid: path for sid, (_, path) in newest.items()}


def earlier_runs(run: LoadedRun, count: int) -> list[Path]:
    """Up to `count` runs of the same runs/ folder that started before this one and share a failure
    point with it, oldest first (the trend's history)."""
    mine = {s.fid for s in run.scenarios}
    found = sorted((when, other) for when, fids, other in _runs_before(run.run_dir, run.started_unix) if fids & mine)
    return [p for _, p in found[-count:]] if count > 0 else []


def previous_run_dir(run_dir: Path) -> Path | None:
    """The latest other run in the same runs/ folder that started before this one and has a run.json.

    Runs sharing a scenario with this one come first: a controls run in between must not hide the last
    F1-F17 run from the comparison.
    """
    mine, my_fids, _ = _loose(run_dir.resolve())
    candidates = [(bool(fids & my_fids), when, other) for when, fids, other in _runs_before(run_dir, mine)]
    return max(candidates)[2] if candidates else None
