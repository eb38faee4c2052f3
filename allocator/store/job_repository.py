"""Jobs in the durable store: create (idempotently), claim with a lease, progress, finish.

Every state change is one short transaction guarded by the expected state, so two
processes (or two service instances on PostgreSQL) can never both claim or both
finish a job: a runner whose lease was taken over gets `False` and drops its work.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from allocator.store.job_records import (
    FINAL_STATUSES,
    IdempotencyConflict,
    JobOutcome,
    JobRecord,
    NewJob,
    QueueFull,
    record_of,
)
from allocator.store.job_recovery import JobRecovery, update_jobs
from allocator.store.queue_caps import QueueCaps, check_queue
from allocator.store.tables import JobRow

__all__ = [
    "FINAL_STATUSES",
    "IdempotencyConflict",
    "JobOutcome",
    "JobRecord",
    "JobRepository",
    "NewJob",
    "QueueCaps",
    "QueueFull",
]


_INSERT = insert(cast(Table, JobRow.__table__))
# Built once: making the statement took most of a finish's CPU, and every small job
# finishes through it.
_FINISH = (
    update_jobs()
    .where(
        JobRow.id == bindparam("job_id"),
        JobRow.lease_owner == bindparam("owner"),
        JobRow.status == "running",
    )
    .values(
        {
            name: bindparam(name)
            for name in (
                "status",
                "stop_reason",
                "solution",
                "objective",
                "best_objective",
                "best_bound",
                "result",
                "error",
                "finished_at",
            )
        }
        | {"lease_owner": None, "lease_expires_at": None}
    )
    .returning(*JobRow.__table__.columns)
)


class JobRepository(JobRecovery):
    """All job reads and writes; thread-safe (one session per call)."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def create(
        self,
        job: NewJob,
        *,
        lease_owner: str | None = None,
        lease_s: float = 0.0,
        caps: QueueCaps | None = None,
    ) -> tuple[JobRecord, bool]:
        """Store a new queued job (or running, leased to `lease_owner`).

        Returns the job and whether it was created; a replay of the same
        Idempotency-Key and body returns the existing job.

        Raises:
            IdempotencyConflict: the key was used with a different body.
            QueueFull: a queued job would pass one of `caps`.
        """
        if job.idempotency_key is not None:
            existing = self._by_key(job.idempotency_key)
            if existing is not None:
                return self._replay(existing, job), False
        now = time.time()
        values = {
            "id": uuid.uuid4().hex,
            "kind": job.kind,
            "status": "running" if lease_owner else "queued",
            "request": job.request,
            "request_sha256": job.request_sha256,
            "idempotency_key": job.idempotency_key,
            "n_agents": job.n_agents,
            "n_tasks": job.n_tasks,
            "time_limit_s": job.time_limit_s,
            "submitted_at": now,
            "started_at": now if lease_owner else None,
            "lease_owner": lease_owner,
            "lease_expires_at": now + lease_s if lease_owner else None,
            "attempts": 1 if lease_owner else 0,
            "cancel_requested": False,
            "tenant": job.tenant,
        }
        try:
            with self._sessions.begin() as session:
                if caps is not None and lease_owner is None:
                    check_queue(session, caps, job.tenant)
                # A plain INSERT: the ORM's unit of work costs more than the write.
                session.connection().execute(_INSERT, values)
        except IntegrityError:
            # Two submissions raced on one key: the other one won; answer with it.
            existing = self._by_key(job.idempotency_key or "")
            if existing is None:
                raise
            return self._replay(existing, job), False
        return record_of(JobRow(**values)), True

    @staticmethod
    def _replay(existing: JobRecord, job: NewJob) -> JobRecord:
        if existing.kind != job.kind:
            raise IdempotencyConflict(
                f"this Idempotency-Key was already used for a {existing.kind} job "
                f"({existing.id}), not a {job.kind} job; use a new key for a new request"
            )
        if existing.request_sha256 != job.request_sha256:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used with a different request body; "
                "use a new key for a new request"
            )
        return existing

    def _by_key(self, key: str) -> JobRecord | None:
        with self._sessions() as session:
            row = session.scalars(select(JobRow).where(JobRow.idempotency_key == key)).first()
            return record_of(row) if row else None

    def get(self, job_id: str) -> JobRecord | None:
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
            return record_of(row) if row else None

    def request_text(self, job_id: str) -> str | None:
        with self._sessions() as session:
            return session.scalar(select(JobRow.request).where(JobRow.id == job_id))

    def result_text(self, job_id: str) -> str | None:
        with self._sessions() as session:
            return session.scalar(select(JobRow.result).where(JobRow.id == job_id))

    def list(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[JobRecord]:
        """Newest first."""
        query = select(JobRow).order_by(JobRow.submitted_at.desc(), JobRow.id)
        if kind:
            query = query.where(JobRow.kind == kind)
        if status:
            query = query.where(JobRow.status == status)
        with self._sessions() as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            return [record_of(r) for r in rows]

    def count_by_status(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: int(n) for status, n in rows}

    def claim_next(
        self, owner: str, lease_s: float, max_attempts: int | None = None
    ) -> JobRecord | None:
        """Lease the oldest queued job to `owner`; None when the queue is empty. A job
        already run `max_attempts` times is left for `fail_exhausted`."""
        runnable = [JobRow.status == "queued"]
        if max_attempts is not None:
            runnable.append(JobRow.attempts < max_attempts)
        for _ in range(5):  # another claimer may win the row we picked; try the next one
            with self._sessions() as session:
                job_id = session.scalar(
                    select(JobRow.id).where(*runnable).order_by(JobRow.submitted_at).limit(1)
                )
            if job_id is None:
                return None
            now = time.time()
            with self._sessions.begin() as session:
                claimed = session.execute(
                    update_jobs()
                    .where(JobRow.id == job_id, *runnable)
                    .values(
                        status="running",
                        lease_owner=owner,
                        lease_expires_at=now + lease_s,
                        started_at=now,
                        attempts=JobRow.attempts + 1,
                    )
                ).rowcount  # type: ignore[attr-defined]
            if claimed:
                return self.get(job_id)
        return None

    def renew(self, job_id: str, owner: str, lease_s: float) -> bool | None:
        """Extend the lease; returns cancel_requested, or None if the lease was lost."""
        with self._sessions.begin() as session:
            done = session.execute(
                update_jobs()
                .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "running")
                .values(lease_expires_at=time.time() + lease_s)
            ).rowcount  # type: ignore[attr-defined]
            if not done:
                return None
            return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))

    def renew_all(self, job_ids: Sequence[str], owner: str, lease_s: float) -> int:
        """Extend the leases of many running jobs in one statement; returns how many."""
        if not job_ids:
            return 0
        with self._sessions.begin() as session:
            done = session.execute(
                update_jobs()
                .where(
                    JobRow.id.in_(job_ids), JobRow.lease_owner == owner, JobRow.status == "running"
                )
                .values(lease_expires_at=time.time() + lease_s)
            ).rowcount  # type: ignore[attr-defined]
        return int(done or 0)

    def record_progress(
        self, job_id: str, owner: str, objective: float | None, bound: float | None, solver: str
    ) -> None:
        values: dict[str, object] = {"progress_solver": solver}
        if objective is not None:
            values["best_objective"] = objective
        if bound is not None:
            values["best_bound"] = bound
        with self._sessions.begin() as session:
            session.execute(
                update_jobs()
                .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "running")
                .values(**values)
            )

    def record_best_plan(self, job_id: str, owner: str, objective: float, plan: str) -> bool:
        """Keep `plan` (JSON) if it beats the job's stored best plan, across attempts too."""
        with self._sessions.begin() as session:
            done = session.execute(
                update_jobs()
                .where(
                    JobRow.id == job_id,
                    JobRow.lease_owner == owner,
                    JobRow.status == "running",
                    or_(
                        JobRow.best_plan_objective.is_(None),
                        JobRow.best_plan_objective > objective,
                    ),
                )
                .values(best_plan=plan, best_plan_objective=objective)
            ).rowcount  # type: ignore[attr-defined]
        return bool(done)

    def best_plan(self, job_id: str) -> str | None:
        """The best verified plan a worker of this job stored (JSON), if any."""
        with self._sessions() as session:
            return session.scalar(select(JobRow.best_plan).where(JobRow.id == job_id))

    def record_instances(self, job_id: str, owner: str, done: int, total: int) -> None:
        """A batch's progress: instances finished out of all."""
        with self._sessions.begin() as session:
            session.execute(
                update_jobs()
                .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "running")
                .values(instances_done=done, instances_total=total)
            )

    def finish(self, job_id: str, owner: str, outcome: JobOutcome) -> bool:
        """Store the outcome if `owner` still holds the lease: results are written once."""
        return self.finish_record(job_id, owner, outcome) is not None

    def finish_record(self, job_id: str, owner: str, outcome: JobOutcome) -> JobRecord | None:
        """`finish`, returning the job as stored (None when the lease was lost), so a
        waiting request needs no read after it."""
        values = {
            "status": outcome.status,
            "stop_reason": outcome.stop_reason,
            "solution": outcome.solution,
            "objective": outcome.objective,
            "best_objective": outcome.objective,
            "best_bound": outcome.bound,
            "result": outcome.result,
            "error": outcome.error,
            "finished_at": time.time(),
        }
        with self._sessions.begin() as session:
            row = (
                session.connection()
                .execute(_FINISH, {"job_id": job_id, "owner": owner, **values})
                .first()
            )
        return record_of(row) if row is not None else None

    def release(self, job_id: str, owner: str, *, count_attempt: bool = False) -> bool:
        """Give a running job back to the queue (graceful shutdown, lost worker pool; a
        crashed worker with `count_attempt`, so `fail_exhausted` ends a job that keeps
        crashing)."""
        with self._sessions.begin() as session:
            done = session.execute(
                update_jobs()
                .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "running")
                .values(
                    status="queued",
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=JobRow.attempts - (0 if count_attempt else 1),
                )
            ).rowcount  # type: ignore[attr-defined]
        return bool(done)

    def request_cancel(self, job_id: str) -> JobRecord | None:
        """A queued job is cancelled at once; a running one is flagged for its runner."""
        now = time.time()
        with self._sessions.begin() as session:
            session.execute(
                update_jobs()
                .where(JobRow.id == job_id, JobRow.status == "queued")
                .values(
                    status="cancelled",
                    stop_reason="cancelled",
                    solution="none",
                    finished_at=now,
                )
            )
            session.execute(
                update_jobs()
                .where(JobRow.id == job_id, JobRow.status == "running")
                .values(cancel_requested=True)
            )
        return self.get(job_id)
