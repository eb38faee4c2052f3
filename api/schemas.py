"""Response bodies of the job routes (request bodies are the models' problem documents)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from allocator.store import JobRecord
from models import Problem, RunOptions

__all__ = [
    "AllocationRequest",
    "BatchComparisonRequest",
    "JobLinks",
    "JobList",
    "JobProgress",
    "JobView",
    "job_view",
    "job_view_json",
]

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class AllocationRequest(Problem):
    """A problem document with optional solver options (documentation only)."""

    options: RunOptions | None = None


class BatchComparisonRequest(BaseModel):
    """Compare solvers on every instance under the same options (documentation only)."""

    instances: list[Problem] = Field(
        min_length=1, description="Problem documents; names come from each `name`."
    )
    options: RunOptions | None = Field(
        default=None, description="Applied to every instance; options inside instances are ignored."
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)


class JobProgress(BaseModel):
    """Best objective and bound reported so far by the running solvers (minimised);
    for a batch, how many instances are done out of all."""

    best_objective: float | None = None
    best_bound: float | None = None
    solver: str | None = None
    instances_done: int | None = None
    instances_total: int | None = None


class JobLinks(BaseModel):
    self: str
    result: str
    report: str


class JobView(BaseModel):
    """A job resource. `status` is the lifecycle; `stop_reason` says why it stopped
    (proven, time_limit, completed, cancelled, error); `solution` what it has
    (optimal, feasible, infeasible, none)."""

    id: str
    kind: str
    status: JobStatus
    stop_reason: str | None = None
    solution: str | None = None
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int
    cancel_requested: bool
    n_agents: int
    n_tasks: int
    time_limit_s: float
    objective: float | None = None
    progress: JobProgress | None = None
    error: str | None = None
    links: JobLinks
    result: dict[str, Any] | None = Field(
        default=None, description="The result, inline only when `?wait` saw the job finish."
    )


class JobList(BaseModel):
    items: list[JobView]
    limit: int
    offset: int
    next: str | None = None


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def job_view(job: JobRecord, result: dict[str, Any] | None = None) -> JobView:
    base = f"/v1/jobs/{job.id}"
    progress = None
    if job.status == "running" and (
        job.best_objective is not None
        or job.best_bound is not None
        or job.instances_total is not None
    ):
        progress = JobProgress(
            best_objective=job.best_objective,
            best_bound=job.best_bound,
            solver=job.progress_solver,
            instances_done=job.instances_done,
            instances_total=job.instances_total,
        )
    return JobView(
        id=job.id,
        kind=job.kind,
        status=job.status,  # type: ignore[arg-type]
        stop_reason=job.stop_reason,
        solution=job.solution,
        submitted_at=datetime.fromtimestamp(job.submitted_at, UTC),
        started_at=_ts(job.started_at),
        finished_at=_ts(job.finished_at),
        attempts=job.attempts,
        cancel_requested=job.cancel_requested,
        n_agents=job.n_agents,
        n_tasks=job.n_tasks,
        time_limit_s=job.time_limit_s,
        objective=job.objective,
        progress=progress,
        error=job.error,
        links=JobLinks(self=base, result=f"{base}/result", report=f"{base}/report"),
        result=result,
    )


_NO_RESULT = b'"result":null}'


def job_view_json(job: JobRecord, result_text: str) -> bytes:
    """The job view as JSON with the stored result JSON inline, as it is: parsing a
    report only to print it again cost a small request more CPU than its store writes."""
    head = job_view(job).model_dump_json().encode()
    if not head.endswith(_NO_RESULT):  # `result` is the last field; keep it so
        raise AssertionError("JobView.result must stay its last field")
    return head[: -len(_NO_RESULT)] + b'"result":' + result_text.encode() + b"}"
