"""A per-solver circuit breaker across requests: a solver that keeps crashing or
overrunning its limit is skipped for a while instead of failing requests.

Hand-written rather than pybreaker: the state is three numbers per solver, it is
read once per request, it must report *why* it skips in the comparison report, and
a job runner must be able to carry it between processes (`to_dict` / `from_dict`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["SolverBreaker", "default_breaker"]


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0  # time.monotonic() of this process
    opens: int = 0


class SolverBreaker:
    """Opens after `threshold` consecutive failures; the open time doubles per reopen.

    One instance per process by default (`default_breaker`); a service whose jobs run
    in fresh processes passes the state along: `SolverBreaker.from_dict(saved)` before
    the job, `breaker.to_dict()` after it. Open times are stored on the wall clock
    (epoch seconds) in the dict, since `time.monotonic()` is meaningless elsewhere.
    """

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

    def open_solvers(self, now: float | None = None) -> list[str]:
        """Names of the solvers the breaker skips right now (for metrics and dashboards)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return sorted(n for n, s in self._states.items() if s.open_until > now)

    def reset(self) -> None:
        with self._lock:
            self._states.clear()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state: settings plus, per solver, failures, opens and `open_until_epoch`."""
        shift = time.time() - time.monotonic()
        with self._lock:
            states = {
                name: {
                    "failures": s.failures,
                    "opens": s.opens,
                    "open_until_epoch": s.open_until + shift if s.open_until > 0 else 0.0,
                }
                for name, s in self._states.items()
            }
        return {
            "threshold": self.threshold,
            "open_s": self.open_s,
            "max_open_s": self.max_open_s,
            "solvers": states,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SolverBreaker:
        """Rebuild a breaker saved by `to_dict` (possibly in another process)."""
        breaker = cls(
            threshold=int(data.get("threshold", 3)),
            open_s=float(data.get("open_s", 60.0)),
            max_open_s=float(data.get("max_open_s", 900.0)),
        )
        shift = time.monotonic() - time.time()
        for name, s in dict(data.get("solvers", {})).items():
            until = float(s.get("open_until_epoch", 0.0))
            breaker._states[str(name)] = _State(
                failures=int(s.get("failures", 0)),
                open_until=until + shift if until > 0 else 0.0,
                opens=int(s.get("opens", 0)),
            )
        return breaker


default_breaker = SolverBreaker()
