"""Fast tests of the load package's pieces that run without Locust."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
import requests

from core.ledger import LedgerWriter, read_ledger
from load import config
from load.driver import REPO_ROOT, LoadRun, _monotonic_of
from load.images import PNG_SIGNATURE, tiny_png
from load.outcome import classify
from load.timeline import SecondCounter, append_rows, read_per_second


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, not listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (kernel backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def resetting_port() -> Iterator[int]:
    """A loopback port that reads the request, then resets the connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    thread.join(timeout=2)


def error_of(url: str) -> BaseException:
    """The exception requests raises for one POST to url."""
    with pytest.raises(requests.RequestException) as caught:
        requests.post(url, data=b"x", timeout=0.5)
    return caught.value


def test_refused_connection_is_a_definite_fail(refusing_port: int) -> None:
    outcome = classify(202, 0, error_of(f"http://127.0.0.1:{refusing_port}/tasks"))
    assert outcome.type == "fail"
    assert "not sent" in (outcome.error or "") and "ConnectionRefusedError" in (outcome.error or "")


def test_timeout_after_sending_is_unknown(silent_port: int) -> None:
    outcome = classify(202, 0, error_of(f"http://127.0.0.1:{silent_port}/tasks"))
    assert outcome.type == "info"
    assert "ReadTimeout" in (outcome.error or "")


def test_reset_after_sending_is_unknown(resetting_port: int) -> None:
    outcome = classify(202, 0, error_of(f"http://127.0.0.1:{resetting_port}/tasks"))
    assert outcome.type == "info"


@pytest.mark.parametrize(
    ("status", "expected_type"),
    [(202, "ok"), (400, "fail"), (401, "fail"), (409, "fail"), (503, "fail"), (500, "info"),
     (502, "info"), (200, "info")],
)  # fmt: skip
def test_status_codes(status: int, expected_type: str) -> None:
    outcome = classify(202, status, None, "why")
    assert outcome.type == expected_type
    assert (outcome.error is None) == (expected_type == "ok")


def test_ledger_lines_stay_whole_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    writer = (
        "import sys; from core.ledger import LedgerWriter\n"
        "book = LedgerWriter(sys.argv[1])\n"
        "for n in range(400): book.record('invoke', 'upload', str(n), 'e' * 400, process=sys.argv[2])\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(path), f"p{i}"], cwd=REPO_ROOT) for i in range(4)]

    def write_from_threads(n: int) -> None:
        with LedgerWriter(path) as book:
            for i in range(200):
                book.record("ok", "chat", str(i), process=f"t{n}")

    threads = [threading.Thread(target=write_from_threads, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(p.wait(timeout=30) == 0 for p in procs)
    ops = [asdict(op) for op in read_ledger(path)]  # a torn line anywhere but last is a LedgerError
    assert len(ops) == 4 * 400 + 4 * 200
    assert set(ops[0]) == {"time", "process", "type", "f", "id", "error"}
    for process in ("p0", "t3"):
        ids = [op["id"] for op in ops if op["process"] == process]
        assert ids == [str(i) for i in range(len(ids))]  # each writer's order is kept


def test_ledger_truncates_long_errors(tmp_path: Path) -> None:
    with LedgerWriter(tmp_path / "l.jsonl") as book:
        book.record("info", "upload", "x", "y" * 10_000, process="u-1-1")
    assert len(read_ledger(tmp_path / "l.jsonl")[0].error or "") == 500


def test_second_counter_drains_finished_seconds(tmp_path: Path) -> None:
    counter = SecondCounter()
    counter.add("POST /tasks", failed=False, at_s=100.2)
    counter.add("POST /tasks", failed=True, at_s=100.9)
    counter.add("GET /sites", failed=False, at_s=101.0)
    assert counter.drain(101) == [{"t": 100, "name": "POST /tasks", "requests": 2, "failures": 1}]
    rest = counter.drain(None)
    assert rest == [{"t": 101, "name": "GET /sites", "requests": 1, "failures": 0}]
    append_rows(tmp_path / "t.jsonl", rest)
    append_rows(tmp_path / "t.jsonl", rest)  # a second process's rows for the same second
    assert read_per_second(tmp_path / "t.jsonl") == {101: {"requests": 2, "failures": 0}}


def test_tiny_png_is_valid() -> None:
    data = tiny_png((1, 2, 3), side_px=4)
    assert data.startswith(PNG_SIGNATURE)
    offset, chunks = len(PNG_SIGNATURE), {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        offset += 12 + length
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (4, 4)
    assert zlib.decompress(chunks[b"IDAT"]) == (b"\x00" + bytes((1, 2, 3)) * 4) * 4
    assert b"IEND" in chunks


def test_base_urls_from_prefix_and_overrides() -> None:
    urls = config.base_urls({"ECOECO_PORT_PREFIX": "180"})
    assert urls["waste"] == "http://127.0.0.1:18001" and urls["chat"] == "http://127.0.0.1:18006"
    assert config.base_urls({})["auth"] == "http://127.0.0.1:17002"
    env = {config.url_env_var("auth"): "http://localhost:9999/"}
    assert config.base_urls(env)["auth"] == "http://localhost:9999"


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.1:17001", "http://gpt.invalid"])
def test_non_loopback_targets_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not on loopback"):
        config.base_urls({config.url_env_var("waste"): url})


def test_driver_refuses_non_loopback_before_launching(tmp_path: Path) -> None:
    run = LoadRun(tmp_path)
    with pytest.raises(ValueError, match="not on loopback"):
        run.start(1, 1, 1, tmp_path / "l", tmp_path / "t", base_urls={"waste": "http://10.1.2.3"})
    assert run.pids == []


def test_only_the_locust_side_imports_locust() -> None:
    code = (
        "import sys, load, load.driver, load.config, load.outcome, load.timeline,"
        " load.images\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('locust', 'gevent'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == []


def test_the_run_ends_when_locust_started_not_when_the_driver_noticed(tmp_path: Path) -> None:
    """A driver that polls the ready file late (busy machine) must still expect Locust's end from
    Locust's own start, or a run that ended on time reads as "ended early"."""
    ready = tmp_path / "ready"
    launched = time.monotonic() - 5.0
    ready.write_text(f"{time.time() - 3.0}\n", encoding="utf-8")
    assert abs(_monotonic_of(ready, launched) - (time.monotonic() - 3.0)) < 0.5
    ready.write_text("", encoding="utf-8")  # caught between create and write: now
    assert abs(_monotonic_of(ready, launched) - time.monotonic()) < 0.5
    ready.write_text(f"{time.time() - 3600.0}\n", encoding="utf-8")  # stale: never before the launch
    assert abs(_monotonic_of(ready, launched) - launched) < 0.01
