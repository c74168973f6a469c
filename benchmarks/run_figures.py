"""Figures of one chaos run for a closing note: per-scenario wall time, RTO next to its claim
(and the 1/10 target), detection delay next to the alert's window.

    python3 -m benchmarks.run_figures [runs/<run_id>]
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.claims import claim
from core.record import read_run, read_scenario


def main(run_dir: Path) -> None:
    """Print one line per scenario and the run's wall time."""
    run = read_run(run_dir / "run.json")
    total = 0.0
    print(f"{'fid':6} {'verdict':13} {'wall s':>7}  RTO measured / claimed (<= 1/10?)  detection delay")
    for entry in run.scenarios:
        rec = read_scenario(run_dir / entry.path)
        total += rec.timeline.end_s
        rtos = [j for j in rec.judgements if j.claim.startswith("rto:")]
        rto_text = ", ".join(
            f"{j.claim[4:]} {j.measured if isinstance(j.measured, str) else f'{j.measured:.1f}s'}/{j.claimed:.0f}s"
            f"{' ok' if isinstance(j.measured, (int, float)) and j.measured <= float(j.claimed or 0) / 10 else ''}"
            for j in rtos
        )
        det = next((j for j in rec.judgements if j.claim.startswith("detection ")), None)
        det_text = (
            f"{det.verdict.value} {det.measured:.1f}s"
            if det and isinstance(det.measured, (int, float))
            else (det.verdict.value if det else "-")
        )
        title = claim(rec.fid).title if rec.fid.startswith("F") else rec.title
        print(f"{rec.fid:6} {rec.verdict.value:13} {rec.timeline.end_s:7.1f}  {rto_text:38} {det_text}  ({title})")
    wall = (run.finished_unix or run.started_unix) - run.started_unix
    print(f"scenario time {total:.0f} s; run wall time (first scenario start to last record) {wall:.0f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/latest"))
