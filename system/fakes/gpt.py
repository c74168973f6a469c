"""The GPT fake: a respx router behind the official openai client, steerable at run time.

The router answers `POST {base}/chat/completions` deterministically. Its behaviour per model
family comes from a JSON control file on a mounted volume (re-read when it changes):

    {"gpt5": {"mode": "healthy", "latency_ms": null}, "gpt4o-mini": {"mode": "error"}}

modes: healthy | error (HTTP 500) | timeout (read timeout) | slow (latency_ms, then healthy)
| garbage (HTTP 200 whose content is not the JSON asked for) | off (no mock: the request goes
to the `.invalid` domain and fails to resolve).

Latency: `latency_ms` when the file gives a number; otherwise the design's own latency of the
family (GPT-5 ~30 s, GPT-4o mini ~10 s, spec section 1) times the time scale, with jitter, so
the pipeline always has work in flight the way the designed system would.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from typing import Any

import httpx
import openai
import respx

FAMILIES = {"gpt-5": "gpt5", "gpt-4o-mini": "gpt4o-mini"}
MODES = ("healthy", "error", "timeout", "slow", "garbage", "off")
# The design's latency per call (spec section 1), in production seconds; scaled by the time scale.
DESIGN_LATENCY_S = {"gpt5": 30.0, "gpt4o-mini": 10.0}
JITTER = (0.5, 1.5)  # a call takes the design latency times a uniform factor from this range
CATEGORIES = ("plastic", "paper", "glass", "metal", "food", "general")


class GPTControl:
    """Reads the control file, caching it by modification time."""

    def __init__(self, path: str, time_scale: float = 1.0) -> None:
        self._path = path
        self._time_scale = time_scale
        self._mtime = -1.0
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()

    def behaviour(self, family: str) -> tuple[str, float]:
        """(mode, latency_s) for a model family; healthy at the design latency if unset or unreadable."""
        with self._lock:
            try:
                mtime = os.stat(self._path).st_mtime
                if mtime != self._mtime:
                    with open(self._path, encoding="utf-8") as fh:
                        self._data = json.load(fh)
                    self._mtime = mtime
            except (OSError, ValueError):
                self._data, self._mtime = {}, -1.0
            entry = self._data.get(family, {})
        mode = str(entry.get("mode", "healthy"))
        latency_ms = entry.get("latency_ms")
        mode = mode if mode in MODES else "healthy"
        if isinstance(latency_ms, int | float):
            latency_s = float(latency_ms) / 1000.0
        elif mode in ("healthy", "garbage"):  # an answer takes the model's time; a failure comes at once
            latency_s = DESIGN_LATENCY_S.get(family, 0.0) * self._time_scale * random.uniform(*JITTER)
        else:
            latency_s = 0.0
        return mode, latency_s


def write_control(path: str, family: str, mode: str, latency_ms: float | None = None) -> None:
    """Set one family's behaviour atomically (used by the harness and tests); latency None: the design's."""
    if mode not in MODES:
        raise ValueError(f"unknown GPT mode {mode!r}; expected one of {MODES}")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        data = {}
    data[family] = {"mode": mode, "latency_ms": latency_ms}
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _answer(model: str, body: dict[str, Any]) -> str:
    """Deterministic content: GPT-5 classifies, GPT-4o mini phrases an answer."""
    prompt = json.dumps(body.get("messages", []), sort_keys=True)
    digest = hashlib.sha256(prompt.encode()).digest()
    if model.startswith("gpt-5"):
        category = CATEGORIES[digest[0] % len(CATEGORIES)]
        return json.dumps({"category": category, "confidence": round(0.5 + digest[1] / 512, 3)})
    return f"Answer {digest[:4].hex()}: please follow the disposal rules above."


def build_router(control: GPTControl, base_url: str) -> respx.Router:
    """A respx router that plays the GPT API according to `control`."""
    router = respx.Router(assert_all_called=False, base_url=base_url)

    def side_effect(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        model = str(body.get("model", ""))
        family = FAMILIES.get(model, "gpt4o-mini")
        mode, latency_s = control.behaviour(family)
        if latency_s > 0:
            time.sleep(latency_s)
        if mode == "error":
            return httpx.Response(500, json={"error": {"message": "fake outage", "type": "server_error"}})
        if mode == "timeout":
            raise httpx.ReadTimeout("fake GPT timeout", request=request)
        if mode == "garbage":  # a 200 whose content is not what was asked for
            return httpx.Response(200, json=_completion(model, "I cannot help with that {"))
        return httpx.Response(200, json=_completion(model, _answer(model, body)))

    router.post("/chat/completions").mock(side_effect=side_effect)
    return router


class RoutedTransport(httpx.BaseTransport):
    """Sends through the router, or for real (to `.invalid`, so it fails) when mode is 'off'."""

    def __init__(self, control: GPTControl, router: respx.Router) -> None:
        self._control = control
        self._mock = httpx.MockTransport(router.handler)
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        family = FAMILIES.get(str(body.get("model", "")), "gpt4o-mini")
        if self._control.behaviour(family)[0] == "off":
            return self._real.handle_request(request)
        return self._mock.handle_request(request)


def make_client(control_path: str, base_url: str, timeout_s: float, time_scale: float = 1.0) -> openai.OpenAI:
    """The official openai client wired to the fake; no request ever leaves the machine."""
    if not base_url.split("/")[2].endswith(".invalid"):
        raise ValueError(f"GPT base URL must be in the .invalid domain, got {base_url}")
    control = GPTControl(control_path, time_scale)
    transport = RoutedTransport(control, build_router(control, base_url))
    http = httpx.Client(transport=transport, timeout=timeout_s)
    return openai.OpenAI(base_url=base_url, api_key="fake-key", max_retries=0, http_client=http)
