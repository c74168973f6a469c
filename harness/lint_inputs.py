"""What the claims lint reads: our alert rules rendered for a time scale, and the design's
loss-after-a-delay policies with their timers (system/settings.py, system/workers/sync.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.claims import all_claims
from harness.lint import AlertWindow, LintRow, Policy, lint, spec_sync_give_up_s, window
from system.monitoring import render
from system.monitoring.known_metrics import all_known_names
from system.settings import SYNC_BACKOFF_BASE_S, SYNC_PERIOD_S, TASK_TIMEOUT_S
from system.workers.sync import GIVE_UP_AFTER, SPEC_RETRIES


def our_windows(scale: float, src: Path | None = None) -> dict[str, AlertWindow]:
    """Every alert of system/monitoring/rules, rendered for `scale`, by name."""
    timing = render.Timing.for_scale(scale)
    src = src or render.default_src()
    out: dict[str, AlertWindow] = {}
    for tmpl in sorted((src / "rules").glob("*.yml.tmpl")):
        doc: dict[str, Any] = yaml.safe_load(render.render_text(tmpl.read_text(encoding="utf-8"), timing))
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    expr = str(rule["expr"])
                    scrape = timing.pg_scrape_interval_s if "pg_" in expr else timing.scrape_interval_s
                    out[rule["alert"]] = window(
                        rule["alert"], "ours", expr, str(rule.get("for", "")), scrape, timing.evaluation_interval_s
                    )
    return out


def design_policies() -> tuple[Policy, ...]:
    """The design's policies that lose work once an outage outlasts their delay (design seconds)."""
    give_up = spec_sync_give_up_s(SYNC_BACKOFF_BASE_S, SPEC_RETRIES, SYNC_PERIOD_S, GIVE_UP_AFTER)
    return (
        Policy(
            "sync gives up",
            ("F10", "F11"),
            give_up,
            f"the background sync stops retrying (attempt {GIVE_UP_AFTER}) and leaves results unsynced",
        ),
        Policy(
            "timeout drop",
            ("F7", "F8"),
            TASK_TIMEOUT_S,
            "recovery marks unfinished rows older than one hour `timeout` instead of republishing them",
        ),
    )


def run_lint(scale: float) -> list[LintRow]:
    """The whole lint for one time scale."""
    timing = render.Timing.for_scale(scale)
    return lint(
        all_claims(),
        our_windows(scale),
        scale,
        timing.scrape_interval_s,
        timing.evaluation_interval_s,
        design_policies(),
        all_known_names(),
    )


def table(rows: list[LintRow], scale: float) -> str:
    """The lint as a plain-text table for a terminal or a CI log."""
    lines = [
        f"claims lint at time scale {scale:g} (alert windows and timers x {scale:g}; RTO claims are wall-clock)",
        f"{'FP':<4} {'check':<14} {'source':<7} {'claimed s':>9} {'needs s':>15}  verdict      why",
    ]
    for r in rows:
        need = f"{r.needed_s[0]:g}" if r.needed_s[0] == r.needed_s[1] else f"{r.needed_s[0]:g}-{r.needed_s[1]:g}"
        lines.append(f"{r.fid:<4} {r.check:<14} {r.source:<7} {r.claimed_s:>9g} {need:>15}  {r.verdict:<12} {r.text}")
    counts = {v: sum(1 for r in rows if r.verdict == v) for v in ("ok", "depends", "undecidable", "latent")}
    lines.append(", ".join(f"{n} {v}" for v, n in counts.items()))
    return "\n".join(lines)
