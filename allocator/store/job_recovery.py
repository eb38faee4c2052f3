"""Jobs whose runner died: expired leases go back to the queue, and a job that keeps
crashing its runner ends as failed (keeping a verified plan its worker stored).
"""

from __future__ import annotations

import time
from typing import cast

from sqlalchemy import Table, Update, select, update
from sqlalchemy.orm import Session, sessionmaker

from allocator.store.job_records import plan_only_result
from allocator.store.tables import JobRow

__all__ = ["JobRecovery", "update_jobs"]

_JOBS = cast(Table, JobRow.__table__)


def update_jobs() -> Update:
    """An UPDATE of the jobs table, as plain SQL: each call has its own short session
    holding no loaded rows, so the ORM's bulk-update bookkeeping (finding loaded
    objects to refresh) is pure cost (finish: 0.9 -> 0.5 ms of CPU)."""
    return update(_JOBS)


class JobRecovery:
    """The recovery half of `JobRepository` (which provides `_sessions`)."""

    _sessions: sessionmaker[Session]

    def requeue_expired(self, now: float | None = None) -> int:
        """Return running jobs whose lease expired (their runner died) to the queue."""
        now = time.time() if now is None else now
        expired = (JobRow.status == "running", JobRow.lease_expires_at < now)
        with self._sessions.begin() as session:
            # A job the user already cancelled is not worth re-running.
            session.execute(
                update_jobs()
                .where(*expired, JobRow.cancel_requested.is_(True))
                .values(
                    status="cancelled",
                    stop_reason="cancelled",
                    solution="none",
                    finished_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
            count = session.execute(
                update_jobs()
                .where(*expired)
                .values(
                    status="queued",
                    lease_owner=None,
                    lease_expires_at=None,
                    best_objective=None,
                    best_bound=None,
                    progress_solver=None,
                    instances_done=None,
                )
            ).rowcount  # type: ignore[attr-defined]
        return int(count or 0)

    def fail_exhausted(self, max_attempts: int) -> int:
        """Queued jobs that already crashed their runner `max_attempts` times stop here;
        one whose worker stored a verified plan keeps it as its result."""
        error = f"the job was interrupted {max_attempts} times; it is not retried"
        exhausted = (JobRow.status == "queued", JobRow.attempts >= max_attempts)
        with self._sessions.begin() as session:
            kept = session.execute(
                select(JobRow.id, JobRow.best_plan, JobRow.best_plan_objective).where(
                    *exhausted, JobRow.best_plan.is_not(None)
                )
            ).all()
            for job_id, plan, objective in kept:
                session.execute(
                    update_jobs()
                    .where(JobRow.id == job_id, *exhausted)
                    .values(
                        status="failed",
                        stop_reason="error",
                        solution="feasible",
                        objective=objective,
                        best_objective=objective,
                        result=plan_only_result("failed", error, str(plan)),
                        finished_at=time.time(),
                        error=error,
                    )
                )
            count = session.execute(
                update_jobs()
                .where(*exhausted)
                .values(
                    status="failed",
                    stop_reason="error",
                    solution="none",
                    finished_at=time.time(),
                    error=error,
                )
            ).rowcount  # type: ignore[attr-defined]
        return len(kept) + int(count or 0)
