"""Run the Locust workload as subprocesses (local, or master plus workers); no locust import."""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from load import config

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LOCUSTFILE = REPO_ROOT / "load" / "locustfile.py"
RUN_ID_ENV = "ECOECO_LOAD_RUN_ID"
TAIL_LINES = 25
POLL_S = 0.1


class LoadError(RuntimeError):
    """Locust did not start, or ended before its time or with an error."""


@dataclass(frozen=True)
class LoadOutputs:
    """Files a run writes; the CSV and JSON files appear when Locust exits cleanly."""

    ledger: Path
    timeline: Path
    stats_csv: Path
    stats_history_csv: Path
    failures_csv: Path
    json_file: Path
    logs: tuple[Path, ...]


@dataclass
class _Process:
    """One Locust process: its role (local, master, worker-N), handle and log file."""

    role: str
    popen: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (for the master's worker socket)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _monotonic_of(ready_file: Path, not_before: float) -> float:
    """The monotonic instant of the wall-clock time the ready file holds; now if it holds none.
    Never before `not_before` (when Locust was launched): a stale or stepped stamp would end the run
    early on paper."""
    now_wall, now = time.time(), time.monotonic()
    try:
        stamped = float(ready_file.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return now
    return max(not_before, now - max(0.0, now_wall - stamped))


def _peek_exit(popen: subprocess.Popen[bytes]) -> int | None:
    """Exit code like Popen.returncode, without reaping, so the process group stays ours."""
    if popen.returncode is not None:
        return popen.returncode
    try:
        info = os.waitid(os.P_PID, popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return popen.wait()
    if info is None or info.si_pid == 0:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _tail(path: Path, lines: int = TAIL_LINES) -> str:
    """Last lines of a log file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class LoadRun:
    """One headless Locust run in its own process groups; stop() is idempotent and waits."""

    def __init__(
        self,
        out_dir: str | Path | None = None,
        *,
        locustfile: str | Path = DEFAULT_LOCUSTFILE,
        startup_timeout_s: float = 30.0,
        stop_timeout_s: float = 5.0,
        python: str = sys.executable,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ecoeco-load-"))
        self.locustfile = Path(locustfile)
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s  # how long users may finish their task on stop
        self.python = python
        self.extra_args = extra_args  # more Locust options for the owning node, e.g. --loglevel
        self.run_id = uuid.uuid4().hex
        self.outputs: LoadOutputs | None = None
        self._processes: list[_Process] = []
        self._planned_end = 0.0
        self._stopping = False

    @property
    def pids(self) -> list[int]:
        """Process ids of every Locust process started (the first owns the run)."""
        return [p.popen.pid for p in self._processes]

    @property
    def running(self) -> bool:
        """True while any Locust process of this run is alive."""
        return any(_peek_exit(p.popen) is None for p in self._processes)

    def start(
        self,
        users: int,
        spawn_rate: float,
        run_time_s: float,
        ledger_path: str | Path,
        timeline_path: str | Path,
        port_prefix: str | int = config.DEFAULT_PORT_PREFIX,
        workers: int = 0,
        *,
        base_urls: Mapping[str, str] | None = None,
        request_timeout_s: float | None = None,
        wait_s: tuple[float, float] | None = None,
        upload_plan: tuple[float, int] | None = None,
    ) -> LoadOutputs:
        """Launch Locust and return once load has started; raises LoadError if it fails to.

        `upload_plan`: (photo uploads per second, users sharing them), see load.config.upload_plan."""
        if self._processes:
            raise LoadError("this LoadRun was already started; use a new one")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        env = self._child_env(ledger_path, timeline_path, port_prefix, base_urls, request_timeout_s, wait_s)
        if upload_plan is not None:
            env[config.UPLOAD_RATE_ENV], env[config.UPLOAD_USERS_ENV] = str(upload_plan[0]), str(upload_plan[1])
        config.upload_plan(env)  # reject a bad plan before launching
        config.base_urls(env)  # reject bad prefixes or non-loopback targets before launching
        ready_file = Path(env[config.READY_FILE_ENV])
        ready_file.unlink(missing_ok=True)
        csv_prefix = self.out_dir / "locust"
        json_file = self.out_dir / "locust-stats.json"  # Locust appends ".json" to the name it gets
        run_args = [
            "--headless",
            "--users", str(users),
            "--spawn-rate", str(spawn_rate),
            "--run-time", f"{max(1, math.ceil(run_time_s))}s",
            "--stop-timeout", str(max(0, math.ceil(self.stop_timeout_s))),
            "--csv", str(csv_prefix),
            "--csv-full-history",
            "--json-file", str(json_file.with_suffix("")),
            "--exit-code-on-error", "0",  # failed requests are data under faults, not an error
            "--only-summary",
            *self.extra_args,
        ]  # fmt: skip
        atexit.register(self._kill_on_exit)
        launched = time.monotonic()
        if workers <= 0:
            self._launch("local", run_args, env)
        else:
            port = _free_port()
            master_args = [
                "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                "--expect-workers", str(workers),
                "--expect-workers-max-wait", str(max(1, math.ceil(self.startup_timeout_s))),
            ]  # fmt: skip
            self._launch("master", run_args + master_args, env)
            for n in range(1, workers + 1):
                worker_args = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
                self._launch(f"worker-{n}", worker_args, env)
        self.outputs = LoadOutputs(
            ledger=Path(env[config.LEDGER_ENV]),
            timeline=Path(env[config.TIMELINE_ENV]),
            stats_csv=Path(f"{csv_prefix}_stats.csv"),
            stats_history_csv=Path(f"{csv_prefix}_stats_history.csv"),
            failures_csv=Path(f"{csv_prefix}_failures.csv"),
            json_file=json_file,
            logs=tuple(p.log for p in self._processes),
        )
        self._await_ready(ready_file)
        # Locust's run time counts from its own start, which the ready file stamps: a driver that
        # noticed the file late (a busy machine) would otherwise expect the end too late.
        self._planned_end = _monotonic_of(ready_file, launched) + max(1, math.ceil(run_time_s))
        return self.outputs

    def _child_env(
        self,
        ledger_path: str | Path,
        timeline_path: str | Path,
        port_prefix: str | int,
        base_urls: Mapping[str, str] | None,
        request_timeout_s: float | None,
        wait_s: tuple[float, float] | None,
    ) -> dict[str, str]:
        """Environment of the Locust processes: ours plus the load settings, minus LOCUST_*."""
        # LOCUST_* variables would silently change the run; the arguments are the whole truth.
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
        env.update(
            {
                config.LEDGER_ENV: str(Path(ledger_path).resolve()),
                config.TIMELINE_ENV: str(Path(timeline_path).resolve()),
                config.PORT_PREFIX_ENV: str(port_prefix),
                config.READY_FILE_ENV: str((self.out_dir / f"ready-{self.run_id}").resolve()),
                RUN_ID_ENV: self.run_id,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
                "PYTHONUNBUFFERED": "1",
            }
        )
        for service, url in (base_urls or {}).items():
            if service not in config.SERVICES:
                raise ValueError(f"unknown service {service!r}; known: {sorted(config.SERVICES)}")
            env[config.url_env_var(service)] = url
        if request_timeout_s is not None:
            env[config.TIMEOUT_ENV] = str(request_timeout_s)
        if wait_s is not None:
            env[config.WAIT_ENV] = f"{wait_s[0]},{wait_s[1]}"
        return env

    def _launch(self, role: str, args: list[str], env: dict[str, str]) -> None:
        """Start one Locust process in its own session, output to out_dir/locust-<role>.log."""
        log = self.out_dir / f"locust-{role}.log"
        cmd = [self.python, "-m", "locust", "-f", str(self.locustfile), *args]
        with log.open("wb") as out:
            popen = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes.append(_Process(role, popen, log))

    def _await_ready(self, ready_file: Path) -> None:
        """Poll until the owning node reports test start; stop everything and raise on failure."""
        deadline = time.monotonic() + self.startup_timeout_s
        while not ready_file.exists():
            for process in self._processes:
                code = _peek_exit(process.popen)
                if code is not None:
                    self.stop()
                    raise LoadError(self._exit_message(process, code, "before the load started"))
            if time.monotonic() > deadline:
                self.stop()
                logs = "\n".join(f"--- {p.log}\n{_tail(p.log)}" for p in self._processes)
                raise LoadError(f"Locust did not start within {self.startup_timeout_s} s\n{logs}")
            time.sleep(POLL_S)

    def _exit_message(self, process: _Process, code: int, when: str) -> str:
        """Error text naming the process, its exit code and the tail of its log."""
        return (
            f"Locust {process.role} (pid {process.popen.pid}) exited with code {code} {when}; "
            f"last lines of {process.log}:\n{_tail(process.log)}"
        )

    def check(self) -> None:
        """Raise LoadError if a Locust process ended early or with an error (call mid-run)."""
        for process in self._processes:
            code = _peek_exit(process.popen)
            if code is None or self._stopping:
                continue
            if code != 0:
                raise LoadError(self._exit_message(process, code, "during the run"))
            if time.monotonic() < self._planned_end - 1.0:
                raise LoadError(self._exit_message(process, code, "before its run time was over"))

    def wait(self, timeout_s: float | None = None) -> LoadOutputs:
        """Wait for the run time to end and every process to exit; raise LoadError on errors."""
        if self.outputs is None:
            raise LoadError("wait() before start()")
        if timeout_s is None:
            timeout_s = max(0.0, self._planned_end - time.monotonic()) + self.stop_timeout_s + 20
        deadline = time.monotonic() + timeout_s
        while self.running:
            self.check()
            if time.monotonic() > deadline:
                self.stop()
                raise LoadError(f"Locust still running {timeout_s:.0f} s after wait() began")
            time.sleep(POLL_S)
        self.check()
        self.stop()  # reaps the processes
        return self.outputs

    def stop(self) -> LoadOutputs | None:
        """End the run gracefully (SIGTERM, then SIGKILL), wait for every process; idempotent."""
        self._stopping = True
        grace_s = self.stop_timeout_s + 10
        owner, workers = self._processes[:1], self._processes[1:]
        self._terminate(owner, grace_s)
        if workers:
            # A master that exited cleanly has told its workers to quit: let them finish first.
            if owner and _peek_exit(owner[0].popen) == 0:
                self._wait_for(workers, grace_s)
            self._terminate(workers, grace_s)
        for process in self._processes:
            process.popen.wait()  # reap only now: until then the group id cannot be reused
        atexit.unregister(self._kill_on_exit)
        return self.outputs

    def _terminate(self, processes: list[_Process], grace_s: float) -> None:
        """SIGTERM (Locust's graceful shutdown), wait up to grace_s, then SIGKILL the groups."""
        running = [p for p in processes if _peek_exit(p.popen) is None]
        for process in running:
            self._signal(process, signal.SIGTERM)
        self._wait_for(running, grace_s)
        for process in processes:
            # Also sweeps any stray child left in a group whose leader already exited.
            self._signal(process, signal.SIGKILL)

    def _signal(self, process: _Process, signum: int) -> None:
        """Signal the process's whole group, unless the leader is already reaped."""
        if process.popen.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.popen.pid, signum)

    def _wait_for(self, processes: list[_Process], timeout_s: float) -> None:
        """Wait until every process has exited or the timeout passes."""
        deadline = time.monotonic() + timeout_s
        while any(_peek_exit(p.popen) is None for p in processes) and time.monotonic() < deadline:
            time.sleep(POLL_S)

    def _kill_on_exit(self) -> None:
        """Last resort at interpreter exit: no Locust survives the process that started it."""
        for process in self._processes:
            self._signal(process, signal.SIGKILL)

    def __enter__(self) -> LoadRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        early_exit: LoadError | None = None
        if exc_type is None:
            try:
                self.check()
            except LoadError as error:
                early_exit = error
        self.stop()
        if early_exit is not None:
            raise early_exit
