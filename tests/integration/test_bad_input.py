"""Bad input against the real APIs: never a 500, always a 4xx with the one error shape {"error": ...}.

Each case here once answered 500 or another shape (issue: no 500 on any input): a bearer token with
bytes above 0x7F (compare_digest raises TypeError on non-ASCII str), a digit that is not ASCII, a
NUL that reaches psycopg2 (ValueError), and Starlette's own 404/405/400 answering {"detail": ...}."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.probes import ProbeUser
from harness.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def user(stack: Stack) -> ProbeUser:
    return ProbeUser(stack.config)


def assert_clear_4xx(r: httpx.Response, *allowed: int) -> None:
    assert r.status_code in allowed, (str(r.request.url), r.status_code, r.text[:300])
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body


@pytest.mark.parametrize(
    "token",
    [
        b"Bearer 1.9999999999.\xe9\xe9\xe9",  # latin-1 bytes in the signature
        b"Bearer \xb2.9999999999.abc",  # SUPERSCRIPT TWO: str.isdigit() says yes, int() says no
        b"Bearer 1.\xd9\xa3\xd9\xa3.abc",  # Arabic-Indic digits in UTF-8
    ],
)
def test_a_token_of_any_bytes_is_401(stack: Stack, token: bytes) -> None:
    for url in (
        f"{stack.config.url('waste-api')}/tasks/x",
        f"{stack.config.url('chat-llm-api')}/chat/conversations/x",
        f"{stack.config.url('userinfo-api')}/users/me",
    ):
        r = httpx.get(url, headers=[(b"Authorization", token)], timeout=5)
        assert_clear_4xx(r, 401)


def test_a_nul_in_a_json_string_is_422(stack: Stack, user: ProbeUser) -> None:
    cfg, h = stack.config, user.headers
    with httpx.Client(timeout=5) as c:
        name = f"nul\x00{uuid.uuid4().hex[:6]}"
        assert_clear_4xx(
            c.post(f"{cfg.url('auth-api')}/auth/register", json={"username": name, "password": "secret-password"}), 422
        )
        assert_clear_4xx(
            c.post(f"{cfg.url('auth-api')}/auth/login", json={"username": "a\x00b", "password": "secret-password"}),
            422,
            401,
        )
        assert_clear_4xx(
            c.put(f"{cfg.url('userinfo-api')}/users/me", headers=h, json={"display_name": "P\x00", "city": "Seoul"}),
            422,
        )
        msg = {"message_id": uuid.uuid4().hex, "conversation_id": "conv-\x00", "text": "hi\x00"}
        assert_clear_4xx(c.post(f"{cfg.url('chat-llm-api')}/chat/messages", headers=h, json=msg), 422)


@pytest.mark.parametrize("path", ["/tasks/abc%00def", "/tasks/%C3%A9"])
def test_a_nul_or_non_ascii_in_a_path_is_4xx(stack: Stack, user: ProbeUser, path: str) -> None:
    r = httpx.get(f"{stack.config.url('waste-api')}{path}", headers=user.headers, timeout=5)
    assert_clear_4xx(r, 404, 422)
    r = httpx.get(
        f"{stack.config.url('chat-llm-api')}/chat/conversations/{path.rsplit('/', 1)[1]}",
        headers=user.headers,
        timeout=5,
    )
    assert_clear_4xx(r, 404, 422)
    r = httpx.get(f"{stack.config.url('recycle-api')}/categories/{path.rsplit('/', 1)[1]}", timeout=5)
    assert_clear_4xx(r, 404, 422)


@pytest.mark.parametrize(
    "method, service, path, kwargs, status",
    [
        ("GET", "waste-api", "/no-such-route", {}, 404),
        ("DELETE", "waste-api", "/tasks", {}, 405),
        (
            "POST",
            "waste-api",
            "/tasks",
            {"content": b"--xx\r\nnot a part", "headers": {"content-type": "multipart/form-data; boundary=xx"}},
            400,
        ),
        (
            "POST",
            "auth-api",
            "/auth/login",
            {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
            422,
        ),
    ],
)
def test_starlettes_own_errors_have_the_project_shape(
    stack: Stack, user: ProbeUser, method: str, service: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    headers = {**user.headers, **kwargs.pop("headers", {})}
    r = httpx.request(method, f"{stack.config.url(service)}{path}", headers=headers, timeout=5, **kwargs)
    assert_clear_4xx(r, status, 422)


def raw_request(port: int, head: str, body: bytes = b"", timeout_s: float = 5.0) -> tuple[int, dict[str, Any], float]:
    """Send a request line and headers (and maybe part of a body), read the answer without sending
    the rest: (status, JSON body, seconds until the answer). A server that waits for the whole body
    before answering times out here."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        s.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    took = time.monotonic() - started
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1] or b"{}"), took


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def test_an_upload_is_refused_before_its_body_is_read(stack: Stack, user: ProbeUser) -> None:
    port = stack.config.port("waste-api")
    huge = 200 * 1024 * 1024  # claimed, never sent
    head = f"POST /tasks HTTP/1.1\nHost: x\nContent-Type: multipart/form-data; boundary=b\nContent-Length: {huge}\n"
    # a bad token first: 401 without the body (FastAPI alone would wait for all 200 MiB, then parse)
    status, body, took = raw_request(port, head + "Authorization: Bearer 1.1.forged\n")
    assert (status, took < 3) == (401, True) and body["error"], (status, body, took)
    # a good token and a body over the limit by its Content-Length: 413 at once
    status, body, took = raw_request(port, head + f"Authorization: {user.headers['Authorization']}\n")
    assert (status, took < 3) == (413, True) and "larger than" in body["error"], (status, body, took)


def test_a_body_without_a_length_is_cut_off_at_the_limit(stack: Stack, user: ProbeUser) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG\r\n\x1a\n'
        for _ in range(40):  # 2.5 MiB, over waste-api's 1 MiB image + 64 KiB
            yield b"0" * 65536

    r = httpx.post(
        f"{stack.config.url('waste-api')}/tasks",
        headers={**user.headers, "content-type": "multipart/form-data; boundary=b"},
        content=chunks(),
        timeout=10,
    )
    assert_clear_4xx(r, 413)
    big = {"username": "x" * 100_000, "password": "secret-password"}  # a JSON body over 64 KiB
    assert_clear_4xx(httpx.post(f"{stack.config.url('auth-api')}/auth/login", json=big, timeout=5), 413)
