"""Resilience reports rendered from a run's records: report.html, report.json, summary.md (docs/reports.md)."""

from reports.build import BuildResult, build, default_run_dir, exit_code

__all__ = ["BuildResult", "build", "default_run_dir", "exit_code"]
