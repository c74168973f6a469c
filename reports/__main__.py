"""CLI: `python3 -m reports build [RUN_DIR] [--gate]` and `python3 -m reports exit-code [RUN_DIR]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.verdict import EXIT_CODES, Verdict
from reports.build import build, default_run_dir, exit_code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python3 -m reports", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write report.html, report.json and summary.md into the run folder")
    b.add_argument("run_dir", nargs="?", type=Path, help="runs/<run_id> (default: runs/latest)")
    b.add_argument(
        "--gate",
        action="store_true",
        help="exit with the gate's code (0 holds or accepted, 1 new violation, 2 inconclusive, 3 harness error)",
    )
    e = sub.add_parser(
        "exit-code", help="print the gate's verdict (accepted findings set aside) and exit with its code"
    )
    e.add_argument("run_dir", nargs="?", type=Path, help="runs/<run_id> (default: runs/latest)")
    args = parser.parse_args(argv)
    run_dir: Path = args.run_dir or default_run_dir()
    if args.command == "exit-code":
        code = exit_code(run_dir)
        print(next(v.value for v, c in EXIT_CODES.items() if c == code))
        return code
    try:
        result = build(run_dir)
    except FileNotFoundError as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return EXIT_CODES[Verdict.HARNESS_ERROR]  # nothing to report on is a harness failure, not a pass
    how = "design review" if result.review else "accepted findings set aside"
    print(f"{result.verdict.value.upper()} (gate exit {result.exit_code}, {how}): {result.html}")
    print(f"  {result.json}\n  {result.summary}" + (f"\n  {result.review}" if result.review else ""))
    if result.previous_run_id:
        print(f"  compared with {result.previous_run_id}")
    return result.exit_code if args.gate else 0


if __name__ == "__main__":
    sys.exit(main())
