"""MCP tools over the job service: allocate inline, submit/poll/cancel jobs, compare, topology.

Every solve goes through the same job service as `POST /v1/...` (same checks, caps,
store and worker processes), so a tool call and an HTTP call behave the same way.
Errors a model can fix come back as tool errors whose text says what to change.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from allocator.store import JobRecord
from allocator.topology_facade import TopologyRequest
from api.mcp_decision_tools import shrink_outcome
from api.mcp_models import AllocationOutcome, TopologyOutcome, allocation_outcome
from api.problems import ApiProblem
from api.schemas import JobView, job_view
from api.services import Services
from models import InputError, Problem, RunOptions
from models.report import ComparisonReport

__all__ = ["INLINE_MAX_TIME_LIMIT_S", "register_job_tools", "tool_errors"]

# An inline call holds a model's turn; longer solves must be jobs (submit_allocation).
INLINE_MAX_TIME_LIMIT_S = 60.0
_PROGRESS_EVERY_S = 0.5
# Workers take a moment to start and to write the result after the time limit.
_INLINE_SLACK_S = 30.0

ServicesGetter = Callable[[], Services]
JobId = Annotated[str, Field(description="The job id returned by submit_allocation.")]
Kind = Literal["allocation", "comparison"]


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """The service's typed errors become tool errors with the same readable message."""
    try:
        yield
    except ApiProblem as exc:
        raise ToolError(f"{exc.status} {exc.title}: {exc.detail}") from exc
    except InputError as exc:
        raise ToolError(f"invalid request: {exc}") from exc


def request_document(problem: Problem, options: RunOptions | None) -> dict[str, Any]:
    """The same problem document `POST /v1/allocations` takes."""
    document = problem.model_dump(mode="json", exclude_unset=True)
    if options is not None:
        document["options"] = options.model_dump(mode="json", exclude_unset=True)
    return document


async def _submit(
    services: Services, kind: str, document: dict[str, Any], idempotency_key: str | None = None
) -> JobRecord:
    body = json.dumps(document).encode()
    # A short wait lets small requests take the runner's warm-pool fast path.
    job, _, _ = await services.jobs.submit(kind, body, wait_s=0.05, idempotency_key=idempotency_key)
    return job


async def _await_job(services: Services, job: JobRecord, ctx: Context) -> JobRecord:
    """Wait for the job, sending progress notifications; a cancelled call cancels the job."""
    started = time.monotonic()
    deadline = started + 1.5 * job.time_limit_s + _INLINE_SLACK_S
    try:
        while not job.final and time.monotonic() < deadline:
            elapsed = time.monotonic() - started
            message = f"{job.status}, {elapsed:.1f} s of {job.time_limit_s:g} s"
            if job.best_objective is not None:
                message += f"; best objective {job.best_objective:.6g}"
                if job.progress_solver:
                    message += f" ({job.progress_solver})"
            await ctx.report_progress(min(elapsed, job.time_limit_s), job.time_limit_s, message)
            job = await services.jobs.wait(job.id, _PROGRESS_EVERY_S) or job
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await services.jobs.cancel(job.id)
        raise
    if job.final:
        await ctx.report_progress(job.time_limit_s, job.time_limit_s, f"job {job.status}")
    return job


async def _allocation_outcome(services: Services, job: JobRecord) -> AllocationOutcome:
    report = None
    if job.final and job.has_result:
        text = await anyio.to_thread.run_sync(services.jobs.jobs.result_text, job.id)
        report = ComparisonReport.model_validate_json(text) if text else None
    error = job.error
    if not job.final:
        error = f"still {job.status}; poll get_job('{job.id}') and then get_result"
    return allocation_outcome(
        job.id, job.kind, job.status, job.stop_reason, job.solution, error, report
    )


async def _topology_outcome(services: Services, job: JobRecord) -> TopologyOutcome:
    outcome = TopologyOutcome(job_id=job.id, status=job.status, error=job.error)
    if not job.final:
        outcome.error = f"still {job.status}; poll get_job('{job.id}') and then get_result"
        return outcome
    text = await anyio.to_thread.run_sync(services.jobs.jobs.result_text, job.id)
    if not text:
        return outcome
    doc = json.loads(text)
    outcome.name = doc.get("name")
    outcome.decision = doc.get("status")
    outcome.applied = bool(doc.get("applied"))
    outcome.reason = doc.get("reason")
    outcome.objective_before = doc.get("objective_before")
    outcome.objective_after = doc.get("objective_after")
    outcome.improvement = doc.get("improvement")
    outcome.links_to_add = list(doc.get("links_to_add") or [])
    outcome.links_to_remove = list(doc.get("links_to_remove") or [])
    return outcome


def _check_inline(time_limit_s: float, what: str) -> None:
    if time_limit_s > INLINE_MAX_TIME_LIMIT_S:
        raise ToolError(
            f"time_limit_s {time_limit_s:g} is too long to {what} inline (at most "
            f"{INLINE_MAX_TIME_LIMIT_S:g} s); use submit_allocation and poll get_job instead"
        )


def register_job_tools(server: MCPServer, services: ServicesGetter) -> None:
    """Add the solver and job tools to `server`; `services` returns the running services."""

    @server.tool()
    async def allocate(
        problem: Problem,
        ctx: Context,
        options: RunOptions | None = None,
        tasks: list[str] | None = None,
        agents: list[str] | None = None,
    ) -> AllocationOutcome:
        """Assign tasks to agents and return the chosen plan, waiting for the result.

        For small requests (time_limit_s at most 60 s; default 10 s). Progress
        notifications report the best objective so far. For longer solves use
        submit_allocation. The objective is minimised. `tasks`/`agents` keep only
        those assignments; a plan of more than 200 assignments comes back as a
        summary with `plan_resource`, the URI of the full plan.
        """
        with tool_errors():
            _check_inline((options or RunOptions()).time_limit_s, "solve")
            svc = services()
            job = await _submit(svc, "allocation", request_document(problem, options))
            job = await _await_job(svc, job, ctx)
            return shrink_outcome(await _allocation_outcome(svc, job), tasks, agents)

    @server.tool()
    async def compare_solvers(
        problem: Problem,
        ctx: Context,
        options: RunOptions | None = None,
    ) -> AllocationOutcome:
        """Run every solver (or options.solvers) side by side on one request and wait.

        Each solver's line carries its verified objective, bound, gap and time; the full
        report (Pareto front, traces) is available with get_result(job_id).
        """
        with tool_errors():
            _check_inline((options or RunOptions()).time_limit_s, "compare")
            svc = services()
            job = await _submit(svc, "comparison", request_document(problem, options))
            job = await _await_job(svc, job, ctx)
            return await _allocation_outcome(svc, job)

    @server.tool()
    async def submit_allocation(
        problem: Problem,
        options: RunOptions | None = None,
        kind: Annotated[
            Kind, Field(description="allocation: portfolio picks; comparison: every solver.")
        ] = "allocation",
        idempotency_key: Annotated[
            str | None, Field(description="Same key and request: the same job back.")
        ] = None,
    ) -> JobView:
        """Queue a solve of any size as a job and return at once; poll get_job(id)."""
        with tool_errors():
            svc = services()
            document = request_document(problem, options)
            body = json.dumps(document).encode()
            job, _, _ = await svc.jobs.submit(
                kind, body, wait_s=0.0, idempotency_key=idempotency_key
            )
            return job_view(job)

    @server.tool()
    async def get_job(job_id: JobId) -> JobView:
        """Status of a job: lifecycle, why it stopped, what it has, best objective so far."""
        with tool_errors():
            return job_view(await services().jobs.get(job_id))

    @server.tool()
    async def get_result(
        job_id: JobId,
        full: Annotated[
            bool, Field(description="True: the whole stored report (large); False: a summary.")
        ] = False,
    ) -> dict[str, Any]:
        """The result of a finished job: a summary by default, or the full report."""
        with tool_errors():
            svc = services()
            job = await svc.jobs.get(job_id)
            if full:
                return dict(json.loads(await svc.jobs.result_text(job_id)))
            await svc.jobs.result_text(job_id)  # 409 with the reason when there is none
            if job.kind == "topology":
                return (await _topology_outcome(svc, job)).model_dump(mode="json")
            outcome = shrink_outcome(await _allocation_outcome(svc, job), None, None)
            return outcome.model_dump(mode="json")

    @server.tool()
    async def cancel_job(job_id: JobId) -> JobView:
        """Stop a job; the best plan found so far is kept as its result."""
        with tool_errors():
            return job_view(await services().jobs.cancel(job_id))

    @server.tool()
    async def optimize_topology(request: TopologyRequest, ctx: Context) -> TopologyOutcome:
        """Redesign an agent network (add/remove links) to cut traffic-weighted latency.

        Waits for the result (request.time_limit_s at most 60 s) and reports the link
        changes and whether they clear the improvement threshold.
        """
        with tool_errors():
            _check_inline(request.time_limit_s, "optimise")
            svc = services()
            document = request.model_dump(mode="json", exclude_unset=True)
            job = await _submit(svc, "topology", document)
            job = await _await_job(svc, job, ctx)
            return await _topology_outcome(svc, job)
