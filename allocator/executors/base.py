"""The executor contract: submit a stored job request, get a handle to wait on or stop.

A handle's `cancel` stops the solve and keeps the best plan found so far, whether
the solve runs in a local solve host or in one on a Dask worker. A service job's
supervisor passes its solver breaker along (the outcome carries it back, updated) and
stores the best plan the handle relays while the solve runs.
"""

from __future__ import annotations

from typing import Any, Protocol

from allocator.executors.host_client import PlanNote, ProgressNote
from allocator.store import JobOutcome

__all__ = ["SolveExecutor", "SolveHandle"]


class SolveHandle(Protocol):
    """One submitted solve."""

    def result(self, timeout: float | None = None) -> JobOutcome:
        """Wait for the outcome; raises TimeoutError when `timeout` passes first."""
        ...

    def done(self) -> bool: ...

    def cancel(self) -> None:
        """Stop the solve; its outcome is `cancelled` with the best plan kept."""
        ...

    def progress(self) -> ProgressNote | None:
        """The latest incumbent or bound reported (may lag by a fraction of a second)."""
        ...

    def best_plan(self) -> PlanNote | None:
        """The best verified plan relayed so far (when submitted with `relay_plans`)."""
        ...


class SolveExecutor(Protocol):
    """Runs job requests (`kind` and request JSON as the job store keeps them)."""

    name: str

    def submit(
        self,
        kind: str,
        request_text: str,
        time_limit_s: float,
        *,
        breaker_state: dict[str, Any] | None = None,
        warm_start: str | None = None,
        relay_plans: bool = False,
    ) -> SolveHandle: ...

    def close(self) -> None: ...
