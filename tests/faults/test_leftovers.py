"""Session start: heal_leftovers repairs what an interrupted run left behind, by label and by tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from faults import CutLink, FillDisk, GptOutage, Isolate, Pause, Stop, heal_leftovers
from faults.cut_network import in_netns
from faults.fill_disk import BALLAST_NAME
from faults.target import is_running, main_pid
from system.fakes.gpt import GPTControl
from tests.faults.conftest import PROJECT, TestProject

pytestmark = pytest.mark.integration


def test_heal_leftovers_after_a_crashed_run(proj: TestProject, loop_ext4: Path, tmp_path: Path) -> None:
    paused, stopped, isolated = proj.run("pg-auth"), proj.run("s3"), proj.run("worker-ai")
    source = proj.run("worker-storage")
    peer = proj.run("waste-api")
    volume = proj.volume("pg-waste-data", type="none", o="bind", device=str(loop_ext4))
    control = tmp_path / "gpt.json"
    # inject and "crash": nobody heals these faults
    for fault in (
        Pause(proj.stack, "pg-auth"),
        Stop(proj.stack, "s3"),
        Isolate(proj.stack, "worker-ai"),
        CutLink(proj.stack, "worker-storage", "waste-api"),
        FillDisk(proj.stack, "pg-waste-data"),
        GptOutage("gpt5", "timeout", control_file=control),
    ):
        fault.inject()
    assert (loop_ext4 / BALLAST_NAME).exists()

    actions = heal_leftovers(proj.client, PROJECT, control_file=control)

    assert is_running(paused) and is_running(stopped) and is_running(isolated)
    assert peer.exec_run(["getent", "hosts", "worker-ai"]).exit_code == 0  # reconnected under its service name
    assert "ecoeco-fault" not in in_netns(main_pid(source), "iptables", "-S").stdout
    assert not (loop_ext4 / BALLAST_NAME).exists()
    assert GPTControl(str(control)).behaviour("gpt5")[0] == "healthy"
    assert any(f"ballast in volume {volume.name}" in a for a in actions), actions
    # a second call finds nothing left to do but the control-file reset
    assert heal_leftovers(proj.client, PROJECT, control_file=control) == [f"reset {control} to healthy"]
