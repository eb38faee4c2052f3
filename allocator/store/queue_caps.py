"""Admission control at the store: a cap on queued jobs per service and per tenant.

Checked in the transaction that inserts the job, against the store (so every
service instance over one PostgreSQL sees the same queue). Two submissions racing
past the check can exceed a cap by one each; the cap bounds the queue, it is not
a quota to the job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocator.store.job_records import QueueFull
from allocator.store.tables import JobRow

__all__ = ["QueueCaps", "check_queue"]

_MAX_RETRY_AFTER_S = 300


@dataclass(frozen=True)
class QueueCaps:
    """Caps on queued (not yet running) jobs; None means no cap."""

    max_queued: int | None = None
    max_queued_per_tenant: int | None = None
    concurrency: int = 1  # jobs run at once: how fast the queue drains, for Retry-After


def check_queue(session: Session, caps: QueueCaps, tenant: str | None) -> None:
    """Raise QueueFull when one more queued job would pass a cap.

    Raises:
        QueueFull: with the cap's setting name and a Retry-After estimate.
    """
    queued = JobRow.status == "queued"
    if caps.max_queued is not None:
        n, seconds = _count(session, queued)
        if n >= caps.max_queued:
            raise QueueFull(
                f"the job queue is full ({n} jobs waiting; ALLOCATOR_MAX_QUEUED_JOBS is "
                f"{caps.max_queued}); retry later",
                _retry_after(n, seconds, caps.concurrency),
            )
    if caps.max_queued_per_tenant is not None and tenant is not None:
        n, seconds = _count(session, queued & (JobRow.tenant == tenant))
        if n >= caps.max_queued_per_tenant:
            raise QueueFull(
                f"tenant {tenant!r} has {n} jobs waiting (ALLOCATOR_MAX_QUEUED_JOBS_PER_TENANT "
                f"is {caps.max_queued_per_tenant}); retry when some have started",
                _retry_after(n, seconds, caps.concurrency),
            )


def _count(session: Session, where: object) -> tuple[int, float]:
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(JobRow.time_limit_s), 0.0)).where(where)  # type: ignore[arg-type]
    ).one()
    return int(row[0]), float(row[1])


def _retry_after(n: int, queued_seconds: float, concurrency: int) -> int:
    """Seconds until one queued job has likely started: its share of the queue's budget."""
    per_job = queued_seconds / max(n, 1) / max(concurrency, 1)
    return max(1, min(_MAX_RETRY_AFTER_S, math.ceil(per_job)))
