"""The lifecycle every job supervisor shares: a monitor thread, cancel and shutdown flags,
the best plan a running job relays (stored), and the outcome that plan makes when the
job's worker ends without a result.

`JobProcess` (a local worker process) and `RemoteJobProcess` (an executor such as
Dask) differ only in `_supervise`, which runs the job and returns its outcome.
"""

from __future__ import annotations

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError

from allocator.store import JobOutcome, JobRecord, JobRepository, storage_reason
from allocator.store.job_records import plan_only_result

__all__ = ["JobSupervisor"]

log = logging.getLogger("allocator.jobs")


class JobSupervisor(ABC):
    """Runs `_supervise` on a daemon thread and reports the outcome to `on_done`."""

    def __init__(
        self,
        job: JobRecord,
        request_text: str,
        jobs: JobRepository,
        owner: str,
        lease_s: float,
        *,
        cancel_grace_s: float,
        on_done: Callable[[JobRecord, JobOutcome | None], None],
        breaker_state: dict[str, Any] | None = None,
    ):
        self.job = job
        self.breaker_state = breaker_state  # the service's solver breaker, for this job
        self._request_text = request_text
        self._jobs = jobs
        self._owner = owner
        self._lease_s = lease_s
        self._cancel_grace_s = cancel_grace_s
        self._on_done = on_done
        self._cancel = threading.Event()
        self._shutdown = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"job-{job.id[:8]}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        """Stop the solve and keep the best plan found so far."""
        self._cancel.set()

    def shutdown(self) -> None:
        """Service stopping: stop the work and hand the job back to the queue."""
        self._shutdown.set()

    def _run(self) -> None:
        outcome: JobOutcome | None = None
        try:
            outcome = self._supervise()
        except DBAPIError as exc:
            # The job keeps its lease until it expires; once the store writes again it is
            # re-queued and run again (attempts count it).
            log.warning(
                "job outcome not stored: storage unavailable; the job is retried when it returns",
                extra={"job_id": self.job.id, "reason": storage_reason(exc)},
            )
        finally:
            self._on_done(self.job, outcome)

    @abstractmethod
    def _supervise(self) -> JobOutcome | None:
        """Run the job to its end (or cancel/shutdown) and return the outcome."""

    def _store_plan(self, plan: tuple[float, str] | None) -> None:
        """Store a relayed best plan, (objective, plan JSON): kept if it beats the stored one."""
        if plan is not None:
            self._jobs.record_best_plan(self.job.id, self._owner, plan[0], plan[1])

    def _stored_plan_outcome(self, error: str | None) -> JobOutcome:
        """The worker ended without a result: the stored best plan, if any, becomes the
        result, so a cancel or a stuck worker still leaves it."""
        cancelled = self._cancel.is_set()
        status = "cancelled" if cancelled else "failed"
        stop_reason = "cancelled" if cancelled else "error"
        best_plan = self._jobs.best_plan(self.job.id)
        if best_plan is None:
            return JobOutcome(status=status, stop_reason=stop_reason, solution="none", error=error)
        return JobOutcome(
            status=status,
            stop_reason=stop_reason,
            solution="feasible",
            objective=json.loads(best_plan)["objective"],
            result=plan_only_result(status, error, best_plan),
            error=error,
        )
