"""Build a run's report files (report.html, report.json, summary.md) and its CI exit code."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.verdict import Verdict
from core.verdict import exit_code as verdict_exit_code
from harness.config import REPO_ROOT
from reports import design_review, html_page, report_json, summary, trend
from reports.compare import Comparison, compare
from reports.runs import LoadedRun, latest_hardened_runs, load_run, previous_run_dir
from reports.scorecard import rows as scorecard_rows

JUNIT = "junit.xml"
REVIEW = "design-review.md"


@dataclass(frozen=True)
class BuildResult:
    """What build() wrote and concluded."""

    run_dir: Path
    verdict: Verdict
    exit_code: int
    html: Path
    json: Path
    summary: Path
    previous_run_id: str | None
    review: Path | None = None  # an as-written run's design-review.md


def default_run_dir() -> Path:
    """runs/latest (the harness keeps that symlink), under $ECOECO_RUNS_DIR if set."""
    return Path(os.environ.get("ECOECO_RUNS_DIR", str(REPO_ROOT / "runs"))) / "latest"


def build(run_dir: Path) -> BuildResult:
    """Render the report of runs/<run_id>/ into that folder; a broken record shows as a harness error in it.

    Raises FileNotFoundError only when run_dir itself does not exist.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder at {run_dir}")
    run = load_run(run_dir)
    real_dir = run.run_dir  # resolved: runs/latest becomes runs/<run_id>
    prev_dir = previous_run_dir(real_dir)
    comparison: Comparison | None = compare(run, load_run(prev_dir, full=False)) if prev_dir else None
    rows = scorecard_rows(run)
    junit = JUNIT if (real_dir / JUNIT).exists() else None
    links = {"report.json": "report.json", "summary.md": "summary.md"} | ({"JUnit XML": JUNIT} if junit else {})
    history = trend.trend(run)
    review = _design_review(run)
    if review is not None:
        links["design review"] = REVIEW
    html = _write(real_dir / "report.html", html_page.render(run, rows, comparison, links, history, review))
    doc = _write(
        real_dir / "report.json",
        report_json.document(
            run, rows, comparison, {"html": "report.html", "summary": "summary.md", "junit": junit}, history, review
        ),
    )
    md = _write(real_dir / "summary.md", summary.markdown(run, rows, comparison, _shown(html)))
    return BuildResult(
        real_dir,
        run.verdict,
        verdict_exit_code(run.gate_verdict),
        html,
        doc,
        md,
        comparison.previous_run_id if comparison else None,
        real_dir / REVIEW if review is not None else None,
    )


def _design_review(run: LoadedRun) -> design_review.Review | None:
    """An as-written run's review beside the newest hardened run (design-review.md written here)."""
    if not run.as_written:
        return None
    dirs = latest_hardened_runs(run)
    loaded = {d: load_run(d) for d in set(dirs.values())}
    hardened = {sid: loaded[d] for sid, d in dirs.items()}
    found = design_review.Review(design_review.review(run, hardened), sorted({r.run_id for r in loaded.values()}))
    _write(run.run_dir / REVIEW, design_review.markdown(run, found))
    return found


def exit_code(run_dir: Path) -> int:
    """CI exit code of a run, from its gate verdict: 0 every claim holds or is an accepted finding,
    1 a new violation (or an accepted finding that held), 2 inconclusive, 3 harness error (or no
    readable run)."""
    if not Path(run_dir).is_dir():
        return verdict_exit_code(Verdict.HARNESS_ERROR)
    return verdict_exit_code(load_run(Path(run_dir)).gate_verdict)


def _shown(path: Path) -> str:
    """The path as a reader in the repo sees it: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _write(path: Path, text: str) -> Path:
    """Write atomically, so a browser or CI step never sees half a report."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
