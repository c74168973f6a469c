"""Where the load goes and how patient it is, read from environment variables."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from system import topology

# The load's name for each API it drives -> its compose service (the port comes from system/topology.py).
SERVICES: Final[Mapping[str, str]] = {
    "waste": "waste-api",
    "auth": "auth-api",
    "userinfo": "userinfo-api",
    "location": "location-api",
    "recycle": "recycle-api",
    "chat": "chat-llm-api",
}
# The compose service each recorded write goes to (core.ledger.OpFunction).
OP_SERVICE: Final[Mapping[str, str]] = {
    "upload": SERVICES["waste"],
    "chat": SERVICES["chat"],
    "register": SERVICES["auth"],
    "profile": SERVICES["userinfo"],
}
DEFAULT_PORT_PREFIX: Final = topology.DEFAULT_PORT_PREFIX
DEFAULT_REQUEST_TIMEOUT_S: Final = 2.0
DEFAULT_WAIT_S: Final = (0.3, 1.5)

PORT_PREFIX_ENV: Final = topology.PORT_PREFIX_ENV
LEDGER_ENV: Final = "ECOECO_LEDGER"
TIMELINE_ENV: Final = "ECOECO_LOAD_TIMELINE"
TIMEOUT_ENV: Final = "ECOECO_LOAD_TIMEOUT_S"
WAIT_ENV: Final = "ECOECO_LOAD_WAIT_S"
READY_FILE_ENV: Final = "ECOECO_LOAD_READY_FILE"
UPLOAD_RATE_ENV: Final = "ECOECO_LOAD_UPLOAD_RATE"
UPLOAD_USERS_ENV: Final = "ECOECO_LOAD_UPLOAD_USERS"


def url_env_var(service: str) -> str:
    """Name of the env var that overrides one service's base URL."""
    return f"ECOECO_LOAD_URL_{service.upper()}"


def require_loopback(url: str) -> str:
    """Return url unchanged if it points at 127.0.0.0/8 or localhost, else raise ValueError."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return url
    try:
        if ipaddress.ip_address(host).is_loopback:
            return url
    except ValueError:
        pass
    # Load may only reach this machine's loopback (network rule of the harness).
    raise ValueError(f"load target {url!r} is not on loopback")


def base_urls(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Base URL of every service: `ECOECO_LOAD_URL_<SERVICE>` or 127.0.0.1:<prefix><NN>."""
    env = os.environ if env is None else env
    prefix = topology.port_prefix(env)
    urls = {}
    for service, compose_service in SERVICES.items():
        url = env.get(url_env_var(service)) or topology.url(compose_service, prefix=prefix)
        urls[service] = require_loopback(url.rstrip("/"))
    return urls


def request_timeout_s(env: Mapping[str, str] | None = None) -> float:
    """Per-request connect and read timeout; short so a fault shows within seconds."""
    env = os.environ if env is None else env
    value = float(env.get(TIMEOUT_ENV) or DEFAULT_REQUEST_TIMEOUT_S)
    if value <= 0:
        raise ValueError(f"{TIMEOUT_ENV} must be positive, got {value}")
    return value


def wait_range_s(env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Think time between a user's tasks as (min, max) seconds, from "min,max"."""
    env = os.environ if env is None else env
    raw = env.get(WAIT_ENV)
    if not raw:
        return DEFAULT_WAIT_S
    low, high = (float(part) for part in raw.split(","))
    if not 0 <= low <= high:
        raise ValueError(f"{WAIT_ENV}={raw!r} must be 'min,max' with 0 <= min <= max")
    return low, high


def upload_plan(env: Mapping[str, str] | None = None) -> tuple[float, int] | None:
    """(photo uploads per second in all, users that share them) from the environment, or None:
    then waste users upload tiny images at their think time, like every other user."""
    env = os.environ if env is None else env
    raw = env.get(UPLOAD_RATE_ENV)
    if not raw:
        return None
    rate, users = float(raw), int(env.get(UPLOAD_USERS_ENV) or 4)
    if rate <= 0 or users < 1:
        raise ValueError(f"{UPLOAD_RATE_ENV}={raw!r} and {UPLOAD_USERS_ENV}={users} must be positive")
    return rate, users
