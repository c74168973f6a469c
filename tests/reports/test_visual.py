"""The report as a reader sees it: rendered by headless Chromium to a PNG, and the build benchmarked.

Set ECOECO_REPORT_SHOT=<folder> to keep the screenshots for a human look.
"""

from __future__ import annotations

import os
import shutil
import statistics
import struct
import subprocess
import time
from pathlib import Path

import pytest

import reports
from harness.verdict import Verdict
from tests.reports.records import T0, full_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MIXED = {"F1": Verdict.VIOLATED, "F3": Verdict.INCONCLUSIVE, "F4": Verdict.HARNESS_ERROR, "F9": Verdict.VIOLATED}


def screenshot(html: Path, png: Path, profile: Path, height: int = 3000) -> None:
    """Render a local page to PNG; Chromium offline (no network features, fresh profile)."""
    assert CHROMIUM is not None
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
                    f"--window-size=1400,{height}", html.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)


def png_size(png: Path) -> tuple[int, int]:
    """Width and height from the PNG header."""
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    full_run(runs / "before", {"F2": Verdict.VIOLATED}, started=T0, rto_s=20.0)
    html = reports.build(full_run(runs / "now", MIXED, started=T0 + 1000)).html
    keep = Path(os.environ["ECOECO_REPORT_SHOT"]) if os.environ.get("ECOECO_REPORT_SHOT") else tmp_path
    keep.mkdir(parents=True, exist_ok=True)
    png = keep / "report-top.png"
    screenshot(html, png, tmp_path / "profile")
    assert png_size(png) == (1400, 3000)
    assert png.stat().st_size > 50_000, "a blank page compresses to almost nothing"
    if keep != tmp_path:  # the whole page too, for a reader's look at every section
        screenshot(html, keep / "report-long.png", tmp_path / "profile", height=16000)


@pytest.mark.slow
def test_build_benchmark_full_run(tmp_path: Path) -> None:
    """Median build time of a 17-scenario run (with a previous run to compare) and the HTML size."""
    runs = tmp_path / "runs"
    full_run(runs / "before", started=T0)
    run_dir = full_run(runs / "now", MIXED, started=T0 + 1000)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        result = reports.build(run_dir)
        times.append(time.perf_counter() - start)
    median_s = statistics.median(times)
    size = result.html.stat().st_size
    print(f"\nreport build: median {median_s * 1000:.0f} ms of 5; report.html {size / 1024:.0f} KiB; "
          f"report.json {result.json.stat().st_size / 1024:.0f} KiB")
    assert median_s < 5.0 and size < 2 * 1024 * 1024
