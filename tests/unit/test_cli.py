"""`python -m harness`: the lint and the environment for running the stack by hand."""

from __future__ import annotations

import shlex

import pytest

from harness.__main__ import main
from system import as_written


def test_env_prints_every_compose_variable_as_an_export_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOECO_TOKEN_SECRET", "a secret with 'quotes' and spaces, long enough")
    monkeypatch.setenv("ECOECO_PORT_PREFIX", "180")
    assert main(["env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    pairs = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines)
    assert pairs["ECOECO_TOKEN_SECRET"] == "a secret with 'quotes' and spaces, long enough"
    assert pairs["ECOECO_PORT_PREFIX"] == "180"
    assert {"ECOECO_ERLANG_COOKIE", "ECOECO_PG_PW_WASTE_API", "ECOECO_PROJECT"} <= set(pairs)
    assert all(line.startswith("export ECOECO_") for line in lines)


def test_env_as_written_builds_the_design_s_policies_and_alert_rules(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECOECO_UNSAFE", raising=False)
    assert main(["env"]) == 0
    hardened = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in capsys.readouterr().out.splitlines()
    )
    assert hardened["ECOECO_UNSAFE"] == "" and hardened["ECOECO_ALERT_RULES"] == "ours"
    assert main(["env", "--as-written"]) == 0
    written = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in capsys.readouterr().out.splitlines()
    )
    assert set(written["ECOECO_UNSAFE"].split(",")) == {p.option for p in as_written.POLICIES}
    assert written["ECOECO_ALERT_RULES"] == "design"
    # the design's token check reads ecoeco_auth as auth-api's role, its password filled in
    assert (
        written["ECOECO_DEFECT_AUTH_DSN"].startswith("postgresql://auth_api:")
        and "{dsn" not in written["ECOECO_DEFECT_AUTH_DSN"]
    )


def test_lint_refuses_a_scale_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["lint", "--scale", "0"])
    assert exc.value.code == 2 and "--scale must be positive" in capsys.readouterr().err
    assert main(["lint", "--scale", "0.02"]) == 0
