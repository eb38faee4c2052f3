"""The job records the store hands out and takes in (plain frozen dataclasses)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row

from allocator.store.tables import JobRow

__all__ = [
    "FINAL_STATUSES",
    "IdempotencyConflict",
    "JobOutcome",
    "JobRecord",
    "NewJob",
    "QueueFull",
    "plan_only_result",
    "record_of",
]

# queued -> running -> succeeded | failed | cancelled; queued -> cancelled.
FINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class IdempotencyConflict(ValueError):
    """An Idempotency-Key reused with a different request body."""


class QueueFull(RuntimeError):
    """The queue (of the service or of one tenant) is at its cap; retry later."""

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class NewJob:
    """What a submission stores; the request is the canonical JSON text."""

    kind: str
    request: str
    request_sha256: str
    n_agents: int
    n_tasks: int
    time_limit_s: float
    idempotency_key: str | None = None
    tenant: str | None = None  # who submitted it, for the per-tenant queue cap


@dataclass(frozen=True)
class JobOutcome:
    """How a run ended: lifecycle status, why it stopped, what it has."""

    status: str
    stop_reason: str
    solution: str | None
    objective: float | None = None
    bound: float | None = None
    result: str | None = None
    error: str | None = None
    # The solver breaker's state after the run (not stored with the job; the runner
    # merges it into the service's breaker).
    breaker_state: dict[str, Any] | None = None


@dataclass(frozen=True)
class JobRecord:
    """A job as read from the store (without request and result texts)."""

    id: str
    kind: str
    status: str
    stop_reason: str | None
    solution: str | None
    n_agents: int
    n_tasks: int
    time_limit_s: float
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int
    cancel_requested: bool
    best_objective: float | None
    best_bound: float | None
    progress_solver: str | None
    instances_done: int | None
    instances_total: int | None
    objective: float | None
    error: str | None
    has_result: bool
    request_sha256: str

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


def plan_only_result(status: str, error: str | None, best_plan: str) -> str:
    """The result of a job that ended without a report after a worker stored a verified
    plan: how it ended and that plan (`{"solver", "objective", "assignments", ...}`)."""
    return json.dumps({"status": status, "error": error, "best_plan": json.loads(best_plan)})


def record_of(row: JobRow | Row[Any]) -> JobRecord:
    """A record from a loaded row or from a statement's RETURNING row."""
    return JobRecord(
        id=row.id,
        kind=row.kind,
        status=row.status,
        stop_reason=row.stop_reason,
        solution=row.solution,
        n_agents=row.n_agents,
        n_tasks=row.n_tasks,
        time_limit_s=row.time_limit_s,
        submitted_at=row.submitted_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        attempts=row.attempts,
        cancel_requested=row.cancel_requested,
        best_objective=row.best_objective,
        best_bound=row.best_bound,
        progress_solver=row.progress_solver,
        instances_done=row.instances_done,
        instances_total=row.instances_total,
        objective=row.objective,
        error=row.error,
        has_result=row.result is not None,
        request_sha256=row.request_sha256,
    )
