"""Schemathesis, every check it has (enabled in schemathesis.toml), against every API's /openapi.json on the real stack.

Each API must answer only what its OpenAPI documents (statuses, content types, the error schema,
the Allow header), never a 5xx, reject what the schema forbids, accept what it allows, and refuse a
secured route without a token. The configuration and its one per-operation exception, with the
reason, are in schemathesis.toml beside this file. Each run's output is kept in the run folder
(schemathesis/<api>.txt) with its totals and seed, so a failure can be replayed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.probes import ProbeUser
from harness.stack import Stack

pytestmark = pytest.mark.integration

APIS = ("waste-api", "auth-api", "userinfo-api", "location-api", "recycle-api", "chat-llm-api")
CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = 40  # per operation and phase: ~100-300 requests per API, a few seconds each


@pytest.fixture(scope="module")
def user(stack: Stack) -> ProbeUser:
    return ProbeUser(stack.config)


@pytest.mark.parametrize("service", APIS)
def test_schemathesis_all_checks_find_nothing(stack: Stack, user: ProbeUser, service: str) -> None:
    out_dir = stack.config.run_dir / "schemathesis"
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(ST),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{stack.config.url(service)}/openapi.json",
        "--header",
        f"Authorization: {user.headers['Authorization']}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "10",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    text = done.stdout + done.stderr
    (out_dir / f"{service}.txt").write_text(text, encoding="utf-8")
    totals = re.search(r"Test cases:\s*\n\s*(.+)", text)
    print(f"{service}: {totals.group(1) if totals else 'no totals'}")
    assert done.returncode == 0, text[-6000:]
    assert totals and re.match(r"\d+ generated", totals.group(1)), text[-2000:]
