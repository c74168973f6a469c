"""Failed-login throttling of auth-api: a sliding window per user name and per client address.

In memory, per process: auth-api runs one process, and a restart forgetting the counts costs an
attacker a restart, not the store. Only wrong passwords count; a refused login (503) does not.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

PER_USER = 5  # failures of one name within the window before that name is refused
PER_CLIENT = 50  # failures from one address within the window (many names guessed from one place)
SWEEP_MIN = 1024  # keys held before expired ones are swept out


class LoginThrottle:
    """Counts failures in a window of `window_s` seconds and says how long a caller must wait."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = SWEEP_MIN  # table size that triggers the next sweep (doubles: amortised O(1))

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]  # the table holds only keys with live failures
            return deque()
        return times

    def retry_after(self, username: str, client: str) -> float:
        """Seconds until this user name may try again from this client; 0 when it may now."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key, limit in ((f"user:{username}", PER_USER), (f"client:{client}", PER_CLIENT)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, times[-limit] + self.window_s - now)
            return wait

    def failed(self, username: str, client: str) -> None:
        """Record one wrong password."""
        now = self._clock()
        with self._lock:
            for key in (f"user:{username}", f"client:{client}"):
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) >= self._sweep_at:  # many names guessed once each must not grow it forever
                for key in list(self._failures):
                    self._recent(key, now)
                self._sweep_at = max(SWEEP_MIN, 2 * len(self._failures))

    def succeeded(self, username: str) -> None:
        """A right password clears that name's failures (not the client's)."""
        with self._lock:
            self._failures.pop(f"user:{username}", None)
