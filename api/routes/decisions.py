"""Decision routes: evaluate, explain and recommend on a plan (synchronous), and re-plan.

Bodies carry the problem document and the plan (`solve --out` format). Bad input
is a problem+json 4xx naming the field; the work runs in a worker thread.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from allocator.decisions import diff_request, evaluate_request, explain_request, recommend_request
from allocator.problem_files import parse_request
from allocator.replanning import ReplanRequest, replan, split_replan_fields
from api.dependencies import get_job_service
from api.job_service import JobService
from api.previous_job import resolve_previous_job
from api.problems import ApiProblem
from api.schemas import JobView, job_view
from api.security import require_token
from models import InputError, Problem

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["decisions"], dependencies=[Depends(require_token)])
Jobs = Annotated[JobService, Depends(get_job_service)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong bearer token."},
    404: {"description": "previous_job names no job."},
    409: {"description": "previous_job has no plan (not finished, or no plan found)."},
    422: {"description": "Invalid body; `detail` names the field and what to change."},
}


async def _body(request: Request) -> dict[str, Any]:
    try:
        document = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiProblem(422, f"the body is not JSON: {exc}; send a JSON object") from exc
    if not isinstance(document, dict):
        raise ApiProblem(422, "the body must be a JSON object with `problem` and `plan`")
    return document


def _problem(document: dict[str, Any], jobs: JobService) -> Problem:
    if "problem" not in document:
        raise InputError("missing; send the problem document", field="problem")
    try:
        problem, _ = parse_request(document["problem"])
    except InputError as exc:
        raise InputError(str(exc), field="problem") from exc
    limits = jobs.limits
    if len(problem.tasks) > limits.max_tasks or len(problem.agents) > limits.max_agents:
        raise ApiProblem(
            413,
            f"{len(problem.tasks)} tasks x {len(problem.agents)} agents exceed this service's "
            f"caps ({limits.max_tasks} tasks, {limits.max_agents} agents)",
        )
    return problem


def _plan(document: dict[str, Any], field: str = "plan") -> object:
    if field not in document:
        raise InputError('missing; send {"assignments": {task: agent}}', field=field)
    return document[field]


def _allowed(document: dict[str, Any], names: set[str]) -> None:
    extra = sorted(set(document) - names)
    if extra:
        raise InputError(f"unknown field(s) {extra}; use {sorted(names)}", field=extra[0])


@router.post("/evaluations", responses=_ERRORS)
async def create_evaluation(request: Request, jobs: Jobs) -> dict[str, Any]:
    """Score a plan: objectives, weighted score, coded violations (`feasible`), loads."""
    document = await _body(request)
    _allowed(document, {"problem", "plan"})
    problem = _problem(document, jobs)
    return await run_in_threadpool(evaluate_request, problem, _plan(document))


@router.post("/explanations", responses=_ERRORS)
async def create_explanation(request: Request, jobs: Jobs) -> dict[str, Any]:
    """Per task: agent, contributions, best alternatives with exact deltas, blockers."""
    document = await _body(request)
    _allowed(document, {"problem", "plan", "tasks", "alternatives"})
    problem = _problem(document, jobs)
    tasks = document.get("tasks")
    if tasks is not None and not (
        isinstance(tasks, list) and all(isinstance(t, str) for t in tasks)
    ):
        raise InputError("use a list of task ids", field="tasks")
    alternatives = document.get("alternatives", 3)
    if not isinstance(alternatives, int) or isinstance(alternatives, bool):
        raise InputError("use a whole number", field="alternatives")
    return await run_in_threadpool(explain_request, problem, _plan(document), tasks, alternatives)


@router.post("/recommendations", responses=_ERRORS)
async def create_recommendation(request: Request, jobs: Jobs) -> dict[str, Any]:
    """Ranked agents for a new `task` (exact score_delta), or tasks for one `agent`."""
    document = await _body(request)
    _allowed(document, {"problem", "plan", "task", "communication", "agent", "top"})
    problem = _problem(document, jobs)
    task = document.get("task")
    if task is not None and "communication" in document:
        task = {"task": task, "communication": document["communication"]}
    agent = document.get("agent")
    if agent is not None and not isinstance(agent, str):
        raise InputError("use an agent id (a string)", field="agent")
    top = document.get("top")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool)):
        raise InputError("use a whole number", field="top")
    return await run_in_threadpool(
        lambda: recommend_request(problem, _plan(document), task=task, agent=agent, top=top)
    )


@router.post("/diffs", responses=_ERRORS)
async def create_diff(request: Request, jobs: Jobs) -> dict[str, Any]:
    """Tasks moved, added and dropped from plan_a to plan_b; score and load changes."""
    document = await _body(request)
    _allowed(document, {"problem", "plan_a", "plan_b"})
    problem = _problem(document, jobs)
    return await run_in_threadpool(
        diff_request, problem, _plan(document, "plan_a"), _plan(document, "plan_b")
    )


@router.post("/replans", responses={200: {"description": "dry_run or finished."}, **_ERRORS})
async def create_replan(
    request: Request,
    response: Response,
    jobs: Jobs,
    wait: Annotated[float, Query(ge=0, le=3600)] = 0,
) -> Any:
    """Re-plan from `previous_plan` or `previous_job` with `max_moves` and `pinned`.

    `dry_run: true` answers with the new plan and its diff and stores nothing;
    otherwise the re-plan runs as an ordinary allocation job (202, or 200 with
    its result when it finishes within `wait`).
    """
    document = await _body(request)
    if "previous_job" in document:
        document = await resolve_previous_job(document, jobs)
    rest, replan_request = split_replan_fields(document)
    if replan_request is None or replan_request.previous_plan is None or not isinstance(rest, dict):
        raise InputError("send previous_plan or previous_job", field="previous_plan")
    problem = _problem({"problem": rest}, jobs)
    if replan_request.dry_run:
        return await run_in_threadpool(_dry_run, problem, replan_request, rest)
    body = json.dumps(document).encode()
    job, result, _created = await jobs.submit("allocation", body, wait_s=wait, idempotency_key=None)
    response.status_code = 200 if result is not None else 202
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    view: JobView = job_view(job, result)
    return view


def _dry_run(problem: Problem, request: ReplanRequest, rest: dict[str, Any]) -> dict[str, Any]:
    assert request.previous_plan is not None
    options = rest.get("options") or {}
    limit = float(options.get("time_limit_s", 2.0)) if isinstance(options, dict) else 2.0
    return replan(
        problem,
        request.previous_plan,
        max_moves=request.max_moves,
        pinned=request.pinned,
        time_limit_s=min(limit, 30.0),
    )
