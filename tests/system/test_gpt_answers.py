"""GPT answers through the real openai client and the respx fake: an unusable answer (a 200 with
garbage content) is retried like an outage and never cached; a good one is cached after parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from system.fakes.gpt import write_control
from system.settings import Settings
from system.workers.ai import VISION_MODEL, build_stages
from system.workers.stage import ExternalFailure
from system.workers.wal import WAL


def _analyzer(tmp_path: Path) -> tuple[WAL, object, str]:
    control = str(tmp_path / "gpt.json")
    settings = Settings(time_scale=0.001, gpt_control=control, gpt_timeout_s=5.0)
    wal = WAL(str(tmp_path / "task_queue.db"))
    analyze = next(s for s in build_stages(settings, wal) if s.name == "gpt5_analyzer").work
    return wal, analyze, control


def test_garbage_is_retried_like_an_outage_and_never_cached(tmp_path: Path) -> None:
    wal, analyze, control = _analyzer(tmp_path)
    write_control(control, "gpt5", "garbage", 0)
    msg = {"task_id": "task-1", "image_path": "s3://b/uploads/task-1"}
    with pytest.raises(ExternalFailure, match="GPT-5 Vision failed"):
        analyze(msg)  # type: ignore[operator]
    assert wal.cache_get(msg["image_path"], VISION_MODEL) is None
    write_control(control, "gpt5", "healthy", 0)
    out = analyze(msg)  # type: ignore[operator]
    assert isinstance(out["category"], str)
    assert wal.cache_get(msg["image_path"], VISION_MODEL) is not None


def test_design_latency_is_scaled_and_jittered(tmp_path: Path) -> None:
    from system.fakes.gpt import DESIGN_LATENCY_S, JITTER, GPTControl

    control = GPTControl(str(tmp_path / "absent.json"), time_scale=0.02)
    latencies = [control.behaviour("gpt5")[1] for _ in range(200)]
    low, high = (DESIGN_LATENCY_S["gpt5"] * 0.02 * j for j in JITTER)
    assert all(low <= x <= high for x in latencies) and max(latencies) - min(latencies) > (high - low) / 2
    write_control(str(tmp_path / "c.json"), "gpt5", "error")
    assert GPTControl(str(tmp_path / "c.json"), 0.02).behaviour("gpt5") == ("error", 0.0)  # failures come at once
