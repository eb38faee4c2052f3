"""A service job run through an executor (the Dask cluster) instead of a local worker process.

Same contract as `allocator.jobs.job_process.JobProcess`, so the job runner can use
either: leases renewed, progress written, cancel stops the solve and keeps the best
plan, shutdown hands the job back to the queue. Like a local job, it carries the
service's solver breaker (sent with the job, merged back from its outcome), stores the
best verified plan the solve relays while it runs, and a job whose solve host died is
run again from that plan (per the attempts policy).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from allocator.executors.base import SolveExecutor, SolveHandle
from allocator.executors.host_client import PlanNote, host_died
from allocator.jobs.supervision import JobSupervisor
from allocator.store import JobOutcome, JobRecord, JobRepository

__all__ = ["RemoteJobProcess", "remote_job_factory"]

log = logging.getLogger("allocator.jobs")

_POLL_S = 0.2
_PROGRESS_WRITE_S = 0.5


class RemoteJobProcess(JobSupervisor):
    """Supervises one job on `executor` from a monitor thread of the web process."""

    def __init__(
        self,
        executor: Callable[[], SolveExecutor],
        job: JobRecord,
        request_text: str,
        jobs: JobRepository,
        owner: str,
        lease_s: float,
        ctx: Any = None,
        *,
        cancel_grace_s: float = 5.0,
        on_done: Callable[[JobRecord, JobOutcome | None], None],
        breaker_state: dict[str, Any] | None = None,
    ):
        del ctx  # the local process context; nothing starts locally here
        super().__init__(
            job,
            request_text,
            jobs,
            owner,
            lease_s,
            cancel_grace_s=cancel_grace_s,
            on_done=on_done,
            breaker_state=breaker_state,
        )
        self._executor = executor
        self._stored_objective: float | None = None  # the last relayed plan stored

    def _submit(self) -> SolveHandle | None:
        try:
            return self._executor().submit(
                self.job.kind,
                self._request_text,
                self.job.time_limit_s,
                breaker_state=self.breaker_state,
                # A retry (the last solve host died) starts from the plan it left.
                warm_start=self._jobs.best_plan(self.job.id),
                relay_plans=True,
            )
        except Exception:  # cluster unreachable: the job goes back to the queue, not lost
            log.exception(
                "cannot submit to the executor; job re-queued", extra={"job_id": self.job.id}
            )
            self._jobs.release(self.job.id, self._owner)
            return None

    def _supervise(self) -> JobOutcome | None:
        handle = self._submit()
        if handle is None:
            return None
        try:
            return self._follow(handle)
        except BaseException:  # a store error ends the watch: stop the remote CPU too
            if not handle.done():
                handle.cancel()
            raise

    def _follow(self, handle: SolveHandle) -> JobOutcome | None:
        """Renew, write progress and plans, pass a cancel on, until the outcome is stored."""
        next_renew = time.monotonic() + self._lease_s / 3
        next_progress = 0.0
        stop_sent_at: float | None = None
        outcome: JobOutcome | None = None
        while outcome is None:
            try:
                outcome = handle.result(timeout=_POLL_S)
                break
            except TimeoutError:
                pass
            now = time.monotonic()
            if self._shutdown.is_set():
                handle.cancel()  # stop the remote CPU; the job runs again from the queue
                self._jobs.release(self.job.id, self._owner)
                return None
            if now >= next_progress:
                self._write_progress(handle)
                next_progress = now + _PROGRESS_WRITE_S
            if now >= next_renew:
                cancel_requested = self._jobs.renew(self.job.id, self._owner, self._lease_s)
                next_renew = now + self._lease_s / 3
                if cancel_requested is None:
                    handle.cancel()  # another runner owns the job now; its result counts
                    return None
                if cancel_requested:
                    self._cancel.set()
            if self._cancel.is_set() and stop_sent_at is None:
                stop_sent_at = now
                handle.cancel()
            if stop_sent_at is not None and now - stop_sent_at > 4 * self._cancel_grace_s:
                outcome = self._stored_plan_outcome(None)
        self._keep_plan(handle.best_plan())  # what it relayed since the last write
        if host_died(outcome) and stop_sent_at is None:
            # Killed, out of memory: run it again per the attempts policy, from its plan.
            log.warning("solve host died; job re-queued", extra={"job_id": self.job.id})
            self._jobs.release(self.job.id, self._owner, count_attempt=True)
            return None
        if outcome.result is None and outcome.status != "succeeded":
            outcome = self._stored_plan_outcome(outcome.error)
        if not self._jobs.finish(self.job.id, self._owner, outcome):
            return None
        return outcome

    def _write_progress(self, handle: SolveHandle) -> None:
        """The latest incumbent and bound, and a better relayed plan, to the store."""
        note = handle.progress()
        if note is not None:
            self._jobs.record_progress(
                self.job.id, self._owner, note.objective, note.bound, note.solver
            )
        self._keep_plan(handle.best_plan())

    def _keep_plan(self, plan: PlanNote | None) -> None:
        if plan is None or plan.objective == self._stored_objective:
            return  # nothing new relayed since the last write
        self._store_plan((plan.objective, plan.plan))
        self._stored_objective = plan.objective


def remote_job_factory(executor: Callable[[], SolveExecutor]) -> Callable[..., RemoteJobProcess]:
    """A drop-in for the `JobProcess` class whose jobs run on `executor()`."""

    def build(*args: Any, **kwargs: Any) -> RemoteJobProcess:
        return RemoteJobProcess(executor, *args, **kwargs)

    return build
