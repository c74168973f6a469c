"""Turn an HTTP answer or client error into a ledger outcome: ok, fail (surely not done) or info."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from requests.exceptions import ConnectTimeout
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError

OutcomeType = Literal["ok", "fail", "info"]

# Raised only while opening the connection, so the request never left the client.
# (urllib3's NewConnectionError, e.g. connection refused, subclasses ConnectTimeoutError.)
_NOT_SENT = (
    ConnectionRefusedError,
    ConnectTimeout,
    ConnectTimeoutError,
    NameResolutionError,
    socket.gaierror,
)


@dataclass(frozen=True)
class Outcome:
    """Completion of one write: its ledger type and, unless ok, why."""

    type: OutcomeType
    error: str | None = None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every error it wraps (cause, context, urllib3 reason, exception args)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            *current.args,
        ]
        todo.extend(e for e in nested if isinstance(e, BaseException))


def was_not_sent(error: BaseException) -> bool:
    """True if the error proves the request was never sent (connection could not be opened)."""
    return any(isinstance(e, _NOT_SENT) for e in _chain(error))


def describe(error: BaseException) -> str:
    """One short line: the outer error type and the innermost cause with its message."""
    innermost = list(_chain(error))[-1]
    text = f"{type(innermost).__name__}: {innermost}".splitlines()[0]
    if innermost is not error:
        text = f"{type(error).__name__} ({text})"
    return text[:200]


def classify(expected_status: int, status: int, error: BaseException | None, reason: str | None = None) -> Outcome:
    """Outcome of a write that expected `expected_status`; status 0 means no HTTP answer."""
    if error is not None:
        if was_not_sent(error):
            return Outcome("fail", f"not sent: {describe(error)}")
        # Timeout or reset after sending: the server may have committed the write.
        return Outcome("info", f"no answer: {describe(error)}")
    if status == expected_status:
        return Outcome("ok")
    detail = f"HTTP {status}" + (f": {reason}" if reason else "")
    if 400 <= status < 500 or status == 503:
        # The server answered and said no (bad request, conflict, unavailable).
        return Outcome("fail", detail)
    # 500 and unexpected codes: the server may have committed before answering.
    return Outcome("info", detail)
