"""Resolve a request's `previous_job` to that job's chosen plan (`previous_plan`).

Used by `POST /v1/replans` and `POST /v1/allocations`: an unknown job is a 404, a job
without a plan a 409, a job of another problem a 422 naming `previous_job`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool

from api.job_service import JobService
from api.problems import ApiProblem
from models import InputError

__all__ = ["resolve_previous_job"]


async def resolve_previous_job(document: dict[str, Any], jobs: JobService) -> dict[str, Any]:
    """Swap `previous_job` for its chosen plan; it must have solved the same problem."""
    job_id = document["previous_job"]
    if not isinstance(job_id, str) or not job_id:
        raise InputError("use a job id (a string)", field="previous_job")
    if "previous_plan" in document:
        raise InputError("give previous_plan or previous_job, not both", field="previous_job")
    try:
        job = await jobs.get(job_id)
    except ApiProblem as exc:  # 404: say which field named it
        raise ApiProblem(exc.status, f"previous_job {job_id!r} names no job") from exc
    result = await jobs.result_document(job) if job.final else None
    chosen = (result or {}).get("chosen") if isinstance(result, dict) else None
    if not chosen:
        raise ApiProblem(409, f"previous_job {job_id!r} has no plan (status {job.status})")
    text = await run_in_threadpool(jobs.jobs.request_text, job_id)
    before = json.loads(text or "{}")
    name = document.get("name", "problem")
    if before.get("name", "problem") != name:
        raise InputError(
            f"job {job_id!r} solved problem {before.get('name')!r}, not {name!r}; "
            "re-plan from a job of the same problem",
            field="previous_job",
        )
    before_tasks = {t.get("id") for t in before.get("tasks", []) if isinstance(t, dict)}
    now_tasks = {t.get("id") for t in document.get("tasks", []) if isinstance(t, dict)}
    if now_tasks and not before_tasks & now_tasks:
        raise InputError(
            f"job {job_id!r} shares no task with this problem; re-plan from a job of it",
            field="previous_job",
        )
    out = {k: v for k, v in document.items() if k != "previous_job"}
    out["previous_plan"] = chosen["plan"]
    return out
