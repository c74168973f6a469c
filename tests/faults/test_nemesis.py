"""Unit tests of the nemesis: LIFO heal, idempotency, partial injects, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import pytest

from core.evidence import EffectCheck
from faults import Fault, FaultError, Nemesis, took_effect
from harness.config import REPO_ROOT


class FakeFault(Fault):
    """Records inject/heal calls in a shared log; can fail on either."""

    name = "fake"

    def __init__(self, label: str, log: list[str], fail_inject: bool = False, fail_heal: int = 0) -> None:
        self.label, self.log = label, log
        self.fail_inject, self.fail_heal = fail_inject, fail_heal
        self.active = False

    def inject(self) -> None:
        self.log.append(f"inject {self.label}")
        self.active = True  # half-done before failing, like a real partial inject
        if self.fail_inject:
            raise FaultError(f"{self.label} could not inject")

    def heal(self) -> None:
        self.log.append(f"heal {self.label}")
        if self.fail_heal > 0:
            self.fail_heal -= 1
            raise RuntimeError(f"{self.label} heal failed")
        self.active = False

    def evidence(self) -> list[EffectCheck]:
        return [EffectCheck("active", self.active, self.label)]

    def describe(self) -> dict[str, Any]:
        return {"fault": self.name, "label": self.label}


def test_heal_all_is_last_in_first_out() -> None:
    log: list[str] = []
    nemesis = Nemesis()
    for label in "abc":
        nemesis.inject(FakeFault(label, log))
    assert nemesis.heal_all() == []
    assert log == ["inject a", "inject b", "inject c", "heal c", "heal b", "heal a"]
    assert nemesis.active == []


def test_heal_all_twice_heals_once() -> None:
    log: list[str] = []
    nemesis = Nemesis()
    nemesis.inject(FakeFault("a", log))
    nemesis.heal_all()
    nemesis.heal_all()
    assert log.count("heal a") == 1


def test_failed_inject_is_still_healed_and_raised() -> None:
    log: list[str] = []
    with pytest.raises(FaultError, match="could not inject"), Nemesis() as nemesis:
        nemesis.inject(FakeFault("a", log))
        nemesis.inject(FakeFault("b", log, fail_inject=True))
    assert log[-2:] == ["heal b", "heal a"]
    assert nemesis.records[1].inject_error is not None


def test_exception_in_block_heals_everything() -> None:
    log: list[str] = []
    fault = FakeFault("a", log)
    with pytest.raises(ZeroDivisionError), Nemesis() as nemesis:
        nemesis.inject(fault)
        assert took_effect(nemesis.evidence(fault))
        _ = 1 / 0
    assert not fault.active
    assert nemesis.journal()[0]["evidence"] == [{"check": "active", "ok": True, "detail": "a"}]


def test_heal_failure_does_not_stop_the_others_and_is_retried() -> None:
    log: list[str] = []
    nemesis = Nemesis()
    a, b, c = FakeFault("a", log), FakeFault("b", log, fail_heal=1), FakeFault("c", log)
    for f in (a, b, c):
        nemesis.inject(f)
    failed = nemesis.heal_all()
    assert [r.fault for r in failed] == [b]
    assert not a.active and not c.active and b.active
    assert "RuntimeError" in str(failed[0].heal_error)
    assert nemesis.active == [b]
    assert nemesis.heal_all() == []  # the retry succeeds
    assert not b.active and failed[0].heal_error is None


def test_heal_one_fault_early() -> None:
    log: list[str] = []
    nemesis = Nemesis()
    a, b = FakeFault("a", log), FakeFault("b", log)
    nemesis.inject(a)
    nemesis.inject(b)
    nemesis.heal(a)
    assert nemesis.active == [b]
    nemesis.heal_all()
    assert log == ["inject a", "inject b", "heal a", "heal b"]


def test_sigint_heals_then_interrupts() -> None:
    log: list[str] = []
    nemesis = Nemesis()
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}  # whatever the runner left there
    with pytest.raises(KeyboardInterrupt), nemesis.sigint_heals():
        nemesis.inject(FakeFault("a", log))
        nemesis.inject(FakeFault("b", log))
        os.kill(os.getpid(), signal.SIGINT)
    assert log[-2:] == ["heal b", "heal a"]
    assert {s: signal.getsignal(s) for s in before} == before  # restored to what it was, not to Python's default


def test_sigint_heals_in_a_process_started_with_sigint_ignored() -> None:
    """`nohup ... &`, cron and some CI agents start jobs with SIGINT ignored: the handler is
    installed for the block anyway, and SIG_IGN is what comes back after it."""
    code = (
        "import os, signal\n"
        "from faults.nemesis import Nemesis\n"
        "from faults.base import Fault\n"
        "assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN\n"
        "class F(Fault):\n"
        "    name = 'f'\n"
        "    def inject(self): pass\n"
        "    def heal(self): print('healed', flush=True)\n"
        "    def evidence(self): return []\n"
        "    def describe(self): return {}\n"
        "n = Nemesis()\n"
        "try:\n"
        "    with n.sigint_heals():\n"
        "        n.inject(F())\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN\n"
        "print('restored', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["healed", "interrupted", "restored"]


def test_sigint_during_heal_all_still_heals_everything() -> None:
    log: list[str] = []
    nemesis = Nemesis()

    class InterruptedHeal(FakeFault):
        def heal(self) -> None:
            if self.active and "interrupted" not in log:
                log.append("interrupted")
                os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, re-entering heal_all
            super().heal()

    with pytest.raises(KeyboardInterrupt), nemesis.sigint_heals():
        nemesis.inject(FakeFault("a", log))
        nemesis.inject(InterruptedHeal("b", log))
        nemesis.heal_all()
    assert nemesis.active == []
    assert "heal a" in log and "heal b" in log
