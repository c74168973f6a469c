"""The report as a reader sees it: rendered by headless Chromium (a PNG, and the DOM Chromium built,
read back for the scorecard's verdicts and each plot's fault window), and the build benchmarked.

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
from core.claims import all_claims
from core.record import Timeline
from core.verdict import Verdict
from tests.reports import dom
from tests.reports.records import T0, full_run, scenario, write

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MIXED = {"F1": Verdict.VIOLATED, "F3": Verdict.INCONCLUSIVE, "F4": Verdict.HARNESS_ERROR, "F9": Verdict.VIOLATED}


def screenshot(html: Path, png: Path, profile: Path, height: int = 3000) -> None:
    """Render a local page to PNG; Chromium offline (no network features, fresh profile)."""
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size=1400,{height}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def dump_dom(html: Path, profile: Path) -> dom.Node:
    """The DOM Chromium built from a local page (after parsing and any script), as a tree."""
    assert CHROMIUM is not None
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "<tbody>" in proc.stdout, "not Chromium's DOM (a browser adds <tbody> to every table)"
    return dom.parse(proc.stdout)


# What a reader must see for the MIXED run, written by hand (not from reports/): one row per
# failure point, its verdict spelled out; the page's verdict is the worst one.
EXPECTED_ROWS = {f"F{i}": "HOLDS" for i in range(1, 18)} | {
    "F1": "VIOLATED",
    "F3": "INCONCLUSIVE",
    "F4": "HARNESS ERROR",
    "F9": "VIOLATED",
}
EXPECTED_PAGE_VERDICT = "VIOLATED"
# records.scenario's fault: injected 10 s, healed 20 s after the scenario's start, drawn on the
# load plot, the probe plot (shaded, and outlined over the strips) and the backlog plot
FAULT_PLOTS = {
    "Offered load: requests and failures per second",
    "Probe status per domain (* = allowed to fail by the claim)",
    "Backlog: queue depth and WAL pending rows",
}


def section(doc: dom.Node, fid: str) -> dom.Node:
    (found,) = [s for s in doc.find("section", "card") if s.attrs.get("id") == fid]
    return found


def windows_by_fid(doc: dom.Node) -> dict[str, set[tuple[float, float]]]:
    """Failure point -> the (start, end) seconds of every fault band drawn in its section."""
    return {f"F{i}": {(w.start_s, w.end_s) for w in dom.fault_windows(section(doc, f"F{i}"))} for i in range(1, 18)}


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
    page = dump_dom(html, tmp_path / "profile")
    assert dom.header_verdict(page) == EXPECTED_PAGE_VERDICT
    assert dom.scorecard_verdicts(page) == EXPECTED_ROWS
    assert "fault window (injected → healed)" in page.text()  # the legend that names the band
    for i in range(1, 18):
        bands = dom.fault_windows(section(page, f"F{i}"))
        assert {b.plot for b in bands} == FAULT_PLOTS, f"F{i}"
        assert {(b.start_s, b.end_s) for b in bands} == {(10.0, 20.0)}, f"F{i}"
        assert any(b.outlined for b in bands), f"F{i}: the window is not outlined over the probe strips"
    if keep != tmp_path:  # the whole page too, for a reader's look at every section
        screenshot(html, keep / "report-long.png", tmp_path / "profile", height=16000)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_rendered_report_follows_the_record(tmp_path: Path) -> None:
    """The checks above can fail: one verdict and one fault window changed in the records, and the
    rendered page changes there and nowhere else."""
    same = reports.build(full_run(tmp_path / "a" / "now", MIXED, started=T0)).html
    changed_verdicts = {**MIXED, "F9": Verdict.HOLDS}
    recs = [scenario(c.fid, changed_verdicts.get(c.fid, Verdict.HOLDS)) for c in all_claims()]
    recs = [r if r.fid != "F2" else scenario("F2", timeline=Timeline(T0, 60.0, 30.0, 45.0, 47.5, 57.5)) for r in recs]
    changed = reports.build(write(tmp_path / "b" / "now", recs, started=T0)).html
    before, after = dump_dom(same, tmp_path / "p1"), dump_dom(changed, tmp_path / "p2")

    rows_before, rows_after = dom.scorecard_verdicts(before), dom.scorecard_verdicts(after)
    assert rows_before == EXPECTED_ROWS
    assert rows_after != EXPECTED_ROWS  # the assertion of test_report_renders_in_chromium would fail
    assert {f for f in rows_before if rows_before[f] != rows_after[f]} == {"F9"}
    assert (rows_before["F9"], rows_after["F9"]) == ("VIOLATED", "HOLDS")
    assert "VIOLATED" in section(before, "F9").find("h2")[0].text()
    assert "HOLDS" in section(after, "F9").find("h2")[0].text()

    win_before, win_after = windows_by_fid(before), windows_by_fid(after)
    assert win_before["F2"] == {(10.0, 20.0)} and win_after["F2"] == {(30.0, 45.0)}
    assert {f for f in win_before if win_before[f] != win_after[f]} == {"F2"}


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
    print(
        f"\nreport build: median {median_s * 1000:.0f} ms of 5; report.html {size / 1024:.0f} KiB; "
        f"report.json {result.json.stat().st_size / 1024:.0f} KiB"
    )
    assert median_s < 5.0 and size < 2 * 1024 * 1024
