"""CLI of the harness.

`python -m harness lint [--scale S] [--strict]`: the claims lint, no containers needed.
`python -m harness env`: the environment docker compose needs for this deployment (project, ports,
time scale, the generated secrets) as `export` lines, to run the stack by hand:
`eval "$(python3 -m harness env)" && docker compose up -d --wait` (`env --as-written`: the design's
own policies and alert rules, docs/as-written.md).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import replace

from core.record import AS_WRITTEN
from harness.config import from_env
from harness.lint_inputs import run_lint, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    lint = sub.add_parser("lint", help="can each claim be decided as specified? (seconds, per claim)")
    lint.add_argument(
        "--scale",
        type=float,
        default=None,
        help="time scale (default $ECOECO_TIME_SCALE, else 1: the design as written)",
    )
    lint.add_argument(
        "--strict", action="store_true", help="exit 1 when one of our rules cannot decide its claim (undecidable)"
    )
    env = sub.add_parser("env", help="export lines of the environment docker compose needs (secrets included)")
    env.add_argument("--as-written", action="store_true", help="the design as written (docs/as-written.md)")
    args = parser.parse_args(argv)
    if args.command == "env":
        config = from_env()
        if args.as_written:
            config = replace(config, build=AS_WRITTEN)
        for key, value in config.compose_env().items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    scale = args.scale if args.scale is not None else float(os.environ.get("ECOECO_TIME_SCALE") or 1.0)
    if not scale > 0:
        parser.error(f"--scale must be positive, not {scale:g}")
    started = time.perf_counter()
    rows = run_lint(scale)
    print(table(rows, scale))
    print(f"({time.perf_counter() - started:.2f} s)")
    ours_undecidable = [r for r in rows if r.source == "ours" and r.verdict == "undecidable"]
    return 1 if args.strict and ours_undecidable else 0


if __name__ == "__main__":
    sys.exit(main())
