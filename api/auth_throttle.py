"""Throttle failed authentication per client: guessing tokens costs the guesser time.

A client (by address) that fails `max_failures` token checks within a minute gets
429 with Retry-After until the oldest failure leaves the window; a correct token is
refused too while blocked, so a guesser learns nothing from blocked attempts.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

__all__ = ["FailedAuthThrottle"]

_WINDOW_S = 60.0
_MAX_CLIENTS = 10_000  # remembered at once; the least recently failing are forgotten


class FailedAuthThrottle:
    """Sliding one-minute window of failed checks per client address."""

    def __init__(self, max_failures: int, window_s: float = _WINDOW_S):
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> int | None:
        """Seconds the client must wait before its next attempt; None when not blocked."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, now)
            if times is None or len(times) < self.max_failures:
                return None
            return max(1, math.ceil(times[0] + self.window_s - now))

    def failed(self, client: str, now: float | None = None) -> None:
        """Record one failed check by `client`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, now)
            if times is None:
                times = self._failures[client] = deque()
            times.append(now)
            self._failures.move_to_end(client)
            while len(self._failures) > _MAX_CLIENTS:
                self._failures.popitem(last=False)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times
