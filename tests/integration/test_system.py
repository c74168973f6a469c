"""The system under test, end to end against the real containers (issue: the Ecoeco system)."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from faults.wait import until
from harness import observe
from harness.disks import APP_UID
from harness.probes import ProbeUser
from harness.stack import Stack
from load.images import photo_jpeg, tiny_png
from system import topology
from system.broker import ALL_QUEUES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def user(stack: Stack) -> ProbeUser:
    return ProbeUser(stack.config)


def submit(stack: Stack, user: ProbeUser, n: int, prefix: str) -> list[str]:
    ids = [f"{prefix}-{uuid.uuid4().hex}" for _ in range(n)]
    with httpx.Client(timeout=5) as c:
        for i, task_id in enumerate(ids):
            r = c.post(
                f"{stack.config.url('waste-api')}/tasks",
                headers=user.headers,
                data={"task_id": task_id},
                files={"image": ("x.png", tiny_png((i % 256, i // 256 % 256, 7)), "image/png")},
            )
            assert r.status_code == 202, r.text
    return ids


def all_completed(stack: Stack, ids: list[str], timeout_s: float = 60) -> dict[str, int]:
    def done() -> dict[str, int] | None:
        counts = observe.results_counts(stack.config)
        return counts if all(i in counts for i in ids) else None

    return until(done, timeout_s=timeout_s, what=f"{len(ids)} tasks completed", interval_s=0.5)


def main_process(stack: Stack, service: str) -> tuple[int, int]:
    """(host pid of the container's main process, its restart count), 0 for the pid while it is down."""
    c = stack.container(service)
    c.reload()
    return int(c.attrs["State"]["Pid"]), int(c.attrs["RestartCount"])


def test_upload_pipeline_happy_path(stack: Stack, user: ProbeUser) -> None:
    [task_id] = submit(stack, user, 1, "happy")
    all_completed(stack, [task_id])
    body: dict[str, Any] = httpx.get(f"{stack.config.url('waste-api')}/tasks/{task_id}", headers=user.headers).json()
    assert body["status"] == "completed"
    assert body["result"]["category"] in {"plastic", "paper", "glass", "metal", "food", "general"}
    assert body["stages_done"] == ["gpt5_analyzer", "image_uploader", "response_generator", "rule_retriever"]


def test_every_domain_answers(stack: Stack, user: ProbeUser) -> None:
    cfg, h = stack.config, user.headers
    with httpx.Client(timeout=5) as c:
        assert c.get(f"{cfg.url('userinfo-api')}/users/me", headers=h).json()["username"] == user.username
        put = c.put(f"{cfg.url('userinfo-api')}/users/me", headers=h, json={"display_name": "P", "city": "Seoul"})
        assert put.json()["city"] == "Seoul"
        sites = c.get(f"{cfg.url('location-api')}/sites", params={"lat": 37.5, "lon": 127.0, "limit": 3}).json()
        assert len(sites["sites"]) == 3 and sites["sites"][0]["distance_km"] <= sites["sites"][1]["distance_km"]
        assert c.get(f"{cfg.url('recycle-api')}/categories/glass").json()["name"] == "glass"
        assert c.get(f"{cfg.url('recycle-api')}/stats").json()["is_replica"] is True
        msg = {"message_id": uuid.uuid4().hex, "conversation_id": "conv-" + uuid.uuid4().hex[:8], "text": "hi"}
        first = c.post(f"{cfg.url('chat-llm-api')}/chat/messages", headers=h, json=msg)
        again = c.post(f"{cfg.url('chat-llm-api')}/chat/messages", headers=h, json=msg)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        conv = c.get(f"{cfg.url('chat-llm-api')}/chat/conversations/{msg['conversation_id']}", headers=h).json()
        assert len(conv["messages"]) == 1


@pytest.mark.parametrize(
    "request_kwargs, status",
    [
        ({"files": {"image": ("a.txt", b"hello", "text/plain")}}, 415),
        ({"files": {"image": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024 + 1), "image/png")}}, 413),
        ({"data": {"task_id": "bad id!"}, "files": {"image": ("a.png", tiny_png(), "image/png")}}, 422),
        ({"data": {}}, 422),
    ],
)
def test_bad_uploads_get_a_clear_4xx(
    stack: Stack, user: ProbeUser, request_kwargs: dict[str, Any], status: int
) -> None:
    r = httpx.post(f"{stack.config.url('waste-api')}/tasks", headers=user.headers, timeout=5, **request_kwargs)
    assert r.status_code == status and "error" in r.json()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer 1.1.forged"}, {"Authorization": "Basic x"}, {"Authorization": "Bearer 1.1000.abc"}],
)
def test_bad_tokens_are_401(stack: Stack, headers: dict[str, str]) -> None:
    for url in (f"{stack.config.url('waste-api')}/tasks/x", f"{stack.config.url('chat-llm-api')}/chat/conversations/x"):
        r = httpx.get(url, headers=headers, timeout=5)
        assert r.status_code == 401 and r.json()["error"]


def test_malformed_json_and_unknown_task(stack: Stack, user: ProbeUser) -> None:
    r = httpx.post(
        f"{stack.config.url('auth-api')}/auth/login",
        content=b"{nope",
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert r.status_code == 422 and "error" in r.json()
    r = httpx.get(f"{stack.config.url('waste-api')}/tasks/unknown-task-id", headers=user.headers, timeout=5)
    assert r.status_code == 404 and "unknown task_id" in r.json()["error"]


def in_hand(wal_path: str, ids: list[str]) -> set[str]:
    """Of `ids`, the tasks a worker's WAL holds mid-task (begun, not finished)."""
    conn = sqlite3.connect(f"file:{wal_path}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT task_id FROM task_wal WHERE status IN ('pending','running','republished')")
        return {str(t) for (t,) in rows} & set(ids)
    finally:
        conn.close()


def restarted_since(stack: Stack, service: str, count: int) -> bool:
    return main_process(stack, service)[1] > count


def running(stack: Stack, service: str) -> tuple[int, int] | None:
    pid, restarts = main_process(stack, service)
    return (pid, restarts) if pid else None


def kill_in_hand(stack: Stack, worker: str, ids: list[str]) -> set[str]:
    """SIGKILL from the host (so the restart policy brings it back; docker kill would not) `worker`
    the moment its WAL shows one of `ids` begun, and return what it owed."""
    # The pid is looked up before the wait, not after it: a Docker API round trip is longer than
    # some stages (a put to moto takes a few ms), and the task would be done before the kill landed.
    pid, before = until(partial(running, stack, worker), timeout_s=30, what=f"{worker} running")
    path = stack.wal_host_path(worker)
    until(partial(in_hand, path, ids), timeout_s=60, what=f"{worker} mid-task", interval_s=0.001)
    os.kill(pid, signal.SIGKILL)
    # Read after the kill: what the dead process had begun and not finished is what it owed.
    held = in_hand(path, ids)
    until(partial(restarted_since, stack, worker, before), timeout_s=30, what=f"{worker} restarted")
    return held


def test_worker_killed_mid_task_finishes_every_task_exactly_once(stack: Stack, user: ProbeUser) -> None:
    photo = photo_jpeg(500_000, seed=1)  # a phone photo: the S3 upload takes long enough to be caught in
    sent: list[str] = []  # acknowledged (202) task ids, in order
    refused: list[str] = []
    stop = threading.Event()

    def send() -> None:
        # Uploads keep arriving until both kills have landed: a kill that found its task already
        # done is tried again, and it must still find work in flight.
        with httpx.Client(timeout=10) as c:
            while not stop.is_set() and len(sent) < 200:
                task_id = f"kill-{uuid.uuid4().hex}"
                r = c.post(
                    f"{stack.config.url('waste-api')}/tasks",
                    headers=user.headers,
                    data={"task_id": task_id},
                    files={"image": ("photo.jpg", photo, "image/jpeg")},
                )
                if r.status_code == 202:
                    sent.append(task_id)
                else:
                    refused.append(f"{r.status_code} {r.text}")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()  # the kills land while uploads still arrive
    held: dict[str, set[str]] = {}
    try:
        for worker in observe.WORKERS:
            for _ in range(10):  # a task seen in hand can still finish before the kill lands: then kill again
                held[worker] = kill_in_hand(stack, worker, sent)
                if held[worker]:
                    break
    finally:
        stop.set()
        sender.join(timeout=30)
    assert not refused, refused[:3]
    assert all(held.values()), held  # the kill landed mid-task, in both workers
    ids = list(sent)
    counts = all_completed(stack, ids, timeout_s=90)
    # results_log keeps one row per attempt of the final stage: work redone after the restart would
    # show a second attempt, a result sent twice the same attempt.
    assert all(counts[i] == 1 for i in ids), {i: counts[i] for i in ids if counts[i] != 1}
    until(stack.all_healthy, timeout_s=60, what="workers healthy again")


def test_wal_rows_and_postgres_rows_agree(stack: Stack, user: ProbeUser) -> None:
    ids = submit(stack, user, 10, "agree")
    all_completed(stack, ids)

    def synced() -> bool:
        return all(not (observe.wal_unfinished(stack.wal_host_path(w)) & set(ids)) for w in observe.WORKERS)

    until(synced, timeout_s=30, what="WAL rows synced")
    wal_rows: set[tuple[str, str]] = set()
    for worker in observe.WORKERS:
        conn = sqlite3.connect(f"file:{stack.wal_host_path(worker)}?mode=ro", uri=True)
        wal_rows |= {
            (t, n)
            for t, n in conn.execute("SELECT task_id, task_name FROM task_wal WHERE status='completed'")
            if t in ids
        }
        conn.close()
    with observe.pg(stack.config, "pg-waste") as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, task_name FROM task_stages WHERE task_id = ANY(%s)", (ids,))
        pg_rows = {(str(t), str(n)) for t, n in cur.fetchall()}
    assert wal_rows == pg_rows and len(wal_rows) == 4 * len(ids)


def test_every_queue_is_replicated_on_all_three_nodes(stack: Stack) -> None:
    """The apps start with the broker nodes, not after them: the first declaration must still
    wait for all three nodes, or a quorum queue has only the members that had joined."""
    out = stack.container("rabbitmq-1").exec_run(
        ["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "type", "members"]
    )
    assert out.exit_code == 0, out.output
    rows = [line.split("\t") for line in out.output.decode().splitlines() if line.strip()]
    assert {name for name, *_ in rows} >= set(ALL_QUEUES)
    for name, kind, members in rows:
        assert kind == "quorum" and members.count("rabbit@") == 3, (name, kind, members)


def test_broker_node_lost_does_not_stop_the_pipeline(stack: Stack, user: ProbeUser) -> None:
    node = stack.container("rabbitmq-2")
    node.stop(timeout=5)
    try:
        ids = submit(stack, user, 10, "node-lost")
        counts = all_completed(stack, ids, timeout_s=60)
        assert all(counts[i] == 1 for i in ids)
    finally:
        node.start()
    until(stack.all_healthy, timeout_s=90, what="rabbitmq-2 back and healthy")


def test_orphan_results_belong_to_the_window_they_were_written_in(stack: Stack) -> None:
    """A result with no accepted task is unexpected in the audit of the window that wrote it, and
    in no later one (a control that loses acceptances must not poison every scenario after it)."""
    old, new = f"orphan-old-{uuid.uuid4().hex}", f"orphan-new-{uuid.uuid4().hex}"
    with observe.pg(stack.config, "pg-waste") as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO results_log (task_id, attempt, stored_at) VALUES "
            "(%s, 'a', now() - interval '1 hour'), (%s, 'a', now())",
            (old, new),
        )
    conn.close()
    counts = observe.results_counts(stack.config, since_unix=time.time() - 600)
    assert new in counts and old not in counts
    assert old in observe.results_counts(stack.config)


def test_app_services_run_as_an_unprivileged_user(stack: Stack) -> None:
    """Every API, both workers and the S3 stand-in run as uid 10001, not root (issue 10 §3)."""
    services = (*topology.load().apis, *topology.load().workers, "s3")
    for service in services:
        status = stack.container(service).exec_run(["cat", "/proc/1/status"]).output.decode()
        uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        assert uids == [str(APP_UID)] * 4, (service, uids)
    # the WAL disks are the workers' own, and nobody else's
    for worker in topology.load().workers:
        st = os.stat(Path(stack.wal_host_path(worker)).parent)
        assert (st.st_uid, oct(st.st_mode & 0o777)) == (APP_UID, "0o750"), worker
