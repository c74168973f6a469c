"""A tiny fake of the six Ecoeco HTTP services on 127.0.0.1, told per write to accept or misbehave."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from load.config import SERVICES

# What the fake does with one write: ok commits and acknowledges; refuse (503) and reject (409)
# answer without committing; error (500), delay (answer after the client timed out) and reset
# (RST after reading) commit first, so the client cannot know.
MODES = ("ok", "refuse", "reject", "error", "delay", "reset")
Policy = Callable[[str, str], str]  # (f, id) -> mode

# (service, path) of each write, with its ledger function and acknowledgment status.
WRITES: dict[tuple[str, str], tuple[str, int]] = {
    ("auth", "/auth/register"): ("register", 201),
    ("waste", "/tasks"): ("upload", 202),
    ("chat", "/chat/messages"): ("chat", 201),
    ("userinfo", "/users/me"): ("profile", 200),  # a PUT: the write's id is the display name it writes
}
BEARER_SERVICES = {"waste", "chat", "userinfo"}


def always_ok(f: str, op_id: str) -> str:
    """Default policy: accept every write."""
    return "ok"


class _Reset(Exception):
    """Raised inside a handler to end the connection with a TCP RST."""


class _QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that stays quiet about clients that time out or get reset."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Broken connections are what the tests provoke."""


class FakeServices:
    """Six ThreadingHTTPServers (one per service) sharing a policy and a record of commits."""

    def __init__(self, policy: Policy = always_ok, delay_s: float = 2.0) -> None:
        self.policy = policy
        self.delay_s = delay_s
        self.committed: dict[str, set[str]] = {"upload": set(), "chat": set(), "register": set(), "profile": set()}
        self.hits: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        self.ports: dict[str, int] = {}
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._placeholders: dict[str, socket.socket] = {}
        self._connections: dict[str, set[socket.socket]] = {s: set() for s in SERVICES}

    @property
    def urls(self) -> dict[str, str]:
        """Base URL of every service."""
        return {s: f"http://127.0.0.1:{port}" for s, port in self.ports.items()}

    def start(self) -> None:
        """Bind every service on a random loopback port and serve in daemon threads."""
        for service in SERVICES:
            self._serve(service, 0)

    def stop(self) -> None:
        """Stop every server and free every port."""
        for service in list(self._servers):
            self._close_server(service)
        for placeholder in self._placeholders.values():
            placeholder.close()
        self._placeholders.clear()

    def set_down(self, service: str, down: bool) -> None:
        """Down: connections to the service's port are refused. Up: it serves again."""
        if down and service in self._servers:
            self._close_server(service)
            # Bound but not listening: the kernel refuses connects and the port stays ours.
            placeholder = socket.socket()
            placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            placeholder.bind(("127.0.0.1", self.ports[service]))
            self._placeholders[service] = placeholder
        elif not down and service in self._placeholders:
            self._placeholders.pop(service).close()
            self._serve(service, self.ports[service])

    def _serve(self, service: str, port: int) -> None:
        server = _QuietServer(("127.0.0.1", port), self._handler_class(service))
        self.ports[service] = server.server_address[1]
        self._servers[service] = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _close_server(self, service: str) -> None:
        server = self._servers.pop(service)
        server.shutdown()
        server.server_close()
        with self.lock:
            open_connections = list(self._connections[service])
        for connection in open_connections:  # keep-alive clients must notice the outage too
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def _handler_class(self, service: str) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle(self) -> None:
                with fake.lock:
                    fake._connections[service].add(self.connection)
                try:
                    super().handle()
                except _Reset:
                    # SO_LINGER 0 makes close() send RST instead of FIN.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                finally:
                    with fake.lock:
                        fake._connections[service].discard(self.connection)

            def do_GET(self) -> None:
                self._route()

            def do_POST(self) -> None:
                self._route()

            def do_PUT(self) -> None:
                self._route()

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self) -> None:
                path = self.path.split("?")[0]
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.lock:
                    fake.hits[(service, f"{self.command} {path}")] += 1
                if path == "/health":
                    return self._send(200, {"status": "ok"})
                if service in BEARER_SERVICES and not (self.headers.get("Authorization", "").startswith("Bearer tok-")):
                    return self._send(401, {"error": "missing token"})
                if self.command in ("POST", "PUT") and (service, path) in WRITES:
                    return self._write(path, body)
                return self._read(path, body)

            def _write(self, path: str, body: bytes) -> None:
                f, status = WRITES[(service, path)]
                op_id = write_id(f, body, self.headers.get("Content-Type", ""))
                mode = fake.policy(f, op_id)
                if mode in ("refuse", "reject"):
                    code, reason = (503, "unavailable") if mode == "refuse" else (409, "conflict")
                    return self._send(code, {"error": reason})
                with fake.lock:
                    fake.committed[f].add(op_id)
                if mode == "reset":
                    raise _Reset
                if mode == "error":
                    return self._send(500, {"error": "internal"})
                if mode == "delay":
                    time.sleep(fake.delay_s)
                self._send(status, {"task_id" if f == "upload" else "id": op_id, "reply": "ok"})

            def _read(self, path: str, body: bytes) -> None:
                if service == "auth" and path == "/auth/login":
                    username = json.loads(body)["username"]
                    if username not in fake.committed["register"]:
                        return self._send(401, {"error": "bad credentials"})
                    return self._send(200, {"token": f"tok-{username}", "expires_at": 0})
                if service == "waste" and path.startswith("/tasks/"):
                    task_id = path.rsplit("/", 1)[1]
                    if task_id not in fake.committed["upload"]:
                        return self._send(404, {"error": "unknown task"})
                    return self._send(200, {"task_id": task_id, "status": "accepted"})
                if service == "recycle" and path == "/categories":
                    return self._send(200, {"categories": [{"name": "plastic"}, {"name": "glass"}]})
                if service == "location":
                    return self._send(200, {"sites": []})
                self._send(200, {})

        return Handler


def write_id(f: str, body: bytes, content_type: str) -> str:
    """The client id of a write: username, message_id, or the multipart task_id field."""
    if f == "register":
        return str(json.loads(body)["username"])
    if f == "chat":
        return str(json.loads(body)["message_id"])
    if f == "profile":
        return str(json.loads(body)["display_name"])
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        fields[str(part.get_param("name", header="content-disposition"))] = payload
    assert fields["image"].startswith(b"\x89PNG"), "upload without a PNG image"
    return fields["task_id"].decode()
