"""Job routes: submit allocations, comparisons and topology jobs; read, cancel, list."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from allocator.jobs import JOB_KINDS
from api.dependencies import get_job_service
from api.job_service import JobService
from api.previous_job import resolve_previous_job
from api.problems import PROBLEM_JSON, ApiProblem
from api.schemas import JobList, JobStatus, JobView, job_view, job_view_json
from api.security import require_token

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["jobs"], dependencies=[Depends(require_token)])

Jobs = Annotated[JobService, Depends(get_job_service)]
WaitQuery = Annotated[
    float,
    Query(
        ge=0, le=3600, description="Seconds to wait for the result inline (capped by the service)."
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Same key and body: the same job."),
]

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"description": text, "content": {PROBLEM_JSON: {}}}
    for code, text in (
        (401, "Missing or wrong bearer token."),
        (404, "No such job."),
        (409, "The job has no result yet."),
        (413, "Body too large."),
        (422, "Invalid request; `detail` says what to change."),
        (429, "The job queue is full; retry after `Retry-After` seconds."),
    )
}


def _body_doc(schema: str) -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


def tenant_of(request: Request) -> str:
    """Who a job is queued for: the X-Tenant header, else the client's address."""
    named = request.headers.get("x-tenant", "").strip()
    if named:
        return named[:100]
    return request.client.host if request.client else "unknown"


async def _submit(
    kind: str,
    request: Request,
    response: Response,
    jobs: JobService,
    wait: float,
    key: str | None,
    *,
    body: bytes | None = None,
) -> Any:
    body = await request.body() if body is None else body
    job, result, created = await jobs.submit_raw(
        kind, body, wait_s=wait, idempotency_key=key, tenant=tenant_of(request)
    )
    headers = {"Location": f"/v1/jobs/{job.id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    if result is not None:  # the stored result goes out as it is, not parsed and printed
        content = job_view_json(job, result)
        return Response(content, status_code=200, media_type="application/json", headers=headers)
    response.status_code = 202
    response.headers.update(headers)
    return job_view(job)


@router.post(
    "/allocations",
    status_code=202,
    responses={200: {"description": "Finished within `wait`; result inline."}, **_ERRORS},
    openapi_extra=_body_doc("AllocationRequest"),
)
async def create_allocation(
    request: Request,
    response: Response,
    jobs: Jobs,
    wait: WaitQuery = 0,
    key: IdempotencyKey = None,
) -> JobView:
    """Solve a problem with the portfolio (the CLI's problem document, optional `options`).

    With `previous_plan` (or `"previous_job": ID`, that job's chosen plan), `max_moves`
    and `pinned` it re-plans from that plan (see `POST /v1/replans`).
    """
    body = await request.body()
    if b'"previous_job"' in body:  # swapped for that job's plan before the job is stored
        body = await _with_previous_plan(body, jobs)
    return await _submit("allocation", request, response, jobs, wait, key, body=body)


async def _with_previous_plan(body: bytes, jobs: JobService) -> bytes:
    """The body with `previous_job` resolved (404 unknown, 409 no plan, 422 other problem)."""
    document = await run_in_threadpool(_json_object, body)
    if "previous_job" not in document:
        return body
    resolved = await resolve_previous_job(document, jobs)
    return await run_in_threadpool(lambda: json.dumps(resolved).encode())


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ApiProblem(422, "the request body is not valid JSON; send a JSON object") from exc
    if not isinstance(document, dict):
        raise ApiProblem(422, "the request body must be a JSON object (a problem document)")
    return document


@router.post(
    "/comparisons",
    status_code=202,
    responses={200: {"description": "Finished within `wait`; result inline."}, **_ERRORS},
    openapi_extra=_body_doc("AllocationRequest"),
)
async def create_comparison(
    request: Request,
    response: Response,
    jobs: Jobs,
    wait: WaitQuery = 0,
    key: IdempotencyKey = None,
) -> JobView:
    """Run every solver side by side on a problem and build the comparison report."""
    return await _submit("comparison", request, response, jobs, wait, key)


@router.post(
    "/comparisons/batches",
    status_code=202,
    responses={200: {"description": "Finished within `wait`; result inline."}, **_ERRORS},
    openapi_extra=_body_doc("BatchComparisonRequest"),
)
async def create_batch_comparison(
    request: Request,
    response: Response,
    jobs: Jobs,
    wait: WaitQuery = 0,
    key: IdempotencyKey = None,
) -> JobView:
    """Compare solvers on many problems, one after another, with paired significance tests.

    The result is the batch report (per-instance results, per-solver aggregates,
    Holm-corrected Wilcoxon tests, performance profiles); progress counts instances.
    """
    return await _submit("batch", request, response, jobs, wait, key)


@router.post(
    "/topology/optimizations",
    status_code=202,
    responses={200: {"description": "Finished within `wait`; result inline."}, **_ERRORS},
    openapi_extra=_body_doc("TopologyRequest"),
)
async def create_topology_optimization(
    request: Request,
    response: Response,
    jobs: Jobs,
    wait: WaitQuery = 0,
    key: IdempotencyKey = None,
) -> JobView:
    """Optimise a network topology for its traffic under design constraints."""
    return await _submit("topology", request, response, jobs, wait, key)


@router.get("/jobs", responses=_ERRORS)
async def list_jobs(
    jobs: Jobs,
    kind: Annotated[str | None, Query(description=f"One of {', '.join(JOB_KINDS)}")] = None,
    status: Annotated[JobStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> JobList:
    """Jobs, newest first, filtered by kind and status."""
    if kind is not None and kind not in JOB_KINDS:
        raise ApiProblem(422, f"kind {kind!r} is not a job kind; use one of {', '.join(JOB_KINDS)}")
    records = await jobs.list(kind=kind, status=status, limit=limit, offset=offset)
    nxt = None
    if len(records) == limit:
        query = f"limit={limit}&offset={offset + limit}"
        query += f"&kind={kind}" if kind else ""
        query += f"&status={status}" if status else ""
        nxt = f"/v1/jobs?{query}"
    return JobList(items=[job_view(r) for r in records], limit=limit, offset=offset, next=nxt)


@router.get("/jobs/{job_id}", responses=_ERRORS)
async def get_job(job_id: str, jobs: Jobs, wait: WaitQuery = 0) -> JobView:
    """Status and, while running, the best objective and bound so far.

    With `?wait=S` the answer comes when the job finishes or after S seconds (long poll).
    """
    job = await jobs.get(job_id)
    if wait > 0 and not job.final:
        job = await jobs.wait(job_id, min(wait, jobs.max_wait_s)) or job
    return job_view(job)


@router.delete("/jobs/{job_id}", status_code=202, responses=_ERRORS)
async def cancel_job(job_id: str, response: Response, jobs: Jobs) -> JobView:
    """Stop the solve; the best plan found so far is kept as the result."""
    job = await jobs.cancel(job_id)
    if job.final:
        response.status_code = 200
    return job_view(job)


@router.get(
    "/jobs/{job_id}/result",
    responses={200: {"content": {"application/json": {}}}, **_ERRORS},
    response_class=JSONResponse,
)
async def get_job_result(job_id: str, jobs: Jobs) -> Response:
    """The result document: the comparison report, the batch report or the topology result."""
    return Response(await jobs.result_text(job_id), media_type="application/json")


@router.get(
    "/jobs/{job_id}/report",
    responses={
        200: {"content": {"application/json": {}, "text/html": {}}},
        406: {"description": "HTML asked of a topology job.", "content": {PROBLEM_JSON: {}}},
        **_ERRORS,
    },
    response_class=JSONResponse,
)
async def get_job_report(
    job_id: str, jobs: Jobs, accept: Annotated[str | None, Header()] = None
) -> Response:
    """The report as JSON, or as a self-contained HTML page with `Accept: text/html`."""
    if accept and "text/html" in accept and "application/json" not in accept:
        return HTMLResponse(await jobs.report_html(job_id))
    return Response(await jobs.result_text(job_id), media_type="application/json")
