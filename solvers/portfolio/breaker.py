"""A per-solver circuit breaker across requests: a solver that keeps crashing or
overrunning its limit is skipped for a while instead of failing requests.

Hand-written rather than pybreaker: the state is three numbers per solver, it is
read once per request, and it must report *why* it skips in the comparison report.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

__all__ = ["SolverBreaker", "default_breaker"]


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0
    opens: int = 0


class SolverBreaker:
    """Opens after `threshold` consecutive failures; the open time doubles per reopen."""

    def __init__(self, threshold: int = 3, open_s: float = 60.0, max_open_s: float = 900.0):
        self.threshold = threshold
        self.open_s = open_s
        self.max_open_s = max_open_s
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def skip_reason(self, name: str, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            state = self._states.get(name)
            if state is None or state.open_until <= now:
                return None
            return (
                f"breaker open: {state.failures} consecutive failures; "
                f"retried in {state.open_until - now:.0f} s"
            )

    def record(self, name: str, ok: bool, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            state = self._states.setdefault(name, _State())
            if ok:
                state.failures = 0
                return
            state.failures += 1
            if state.failures >= self.threshold:
                wait = min(self.open_s * (2**state.opens), self.max_open_s)
                state.open_until = now + wait
                state.opens += 1

    def reset(self) -> None:
        with self._lock:
            self._states.clear()


default_breaker = SolverBreaker()
