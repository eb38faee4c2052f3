"""MCP tools for decisions on a plan (evaluate_plan, explain_plan, recommend_agent,
recommend_tasks_for_agent), the full-plan resource, and the size rule for plans in results.

Results stay small enough for a model's context: lists are cut with a count of
what was left out, and a plan above `INLINE_PLAN_LIMIT` assignments is replaced by a
summary and a resource link (`allocator://jobs/{job_id}/plan`) unless filtered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from allocator.decisions import evaluate_request, explain_request, recommend_request
from api.mcp_models import AllocationOutcome
from api.services import Services
from models import Plan, Problem, Task
from models.schema import Communication

__all__ = ["INLINE_PLAN_LIMIT", "PLAN_URI", "register_decision_tools", "shrink_outcome"]

#: Above this many assignments a tool result carries a summary and a link, not the plan.
INLINE_PLAN_LIMIT = 200
PLAN_URI = "allocator://jobs/{job_id}/plan"
_LIST_LIMIT = 20


def shrink_outcome(
    outcome: AllocationOutcome, tasks: list[str] | None, agents: list[str] | None
) -> AllocationOutcome:
    """Keep the assignments the filters ask for; above the limit, a summary and a link."""
    outcome.n_assigned = len(outcome.assignments)
    if tasks or agents:
        wanted_tasks, wanted_agents = set(tasks or []), set(agents or [])
        outcome.assignments = {
            t: a
            for t, a in outcome.assignments.items()
            if (not tasks or t in wanted_tasks) and (not agents or a in wanted_agents)
        }
        outcome.unassigned = [t for t in outcome.unassigned if not tasks or t in wanted_tasks]
    if len(outcome.assignments) > INLINE_PLAN_LIMIT:
        outcome.assignments = {}
        outcome.plan_truncated = True
        outcome.plan_resource = PLAN_URI.format(job_id=outcome.job_id)
    if agents:
        outcome.utilisation = {a: u for a, u in outcome.utilisation.items() if a in set(agents)}
    elif len(outcome.utilisation) > _LIST_LIMIT:
        busiest = sorted(outcome.utilisation.items(), key=lambda item: -item[1])
        outcome.utilisation = dict(busiest[:_LIST_LIMIT])
    if len(outcome.unassigned_reasons) > _LIST_LIMIT:
        kept = list(outcome.unassigned_reasons.items())[:_LIST_LIMIT]
        outcome.unassigned_reasons = dict(kept)
    return outcome


def _cut(items: list[Any], limit: int = _LIST_LIMIT) -> tuple[list[Any], int]:
    return items[:limit], max(len(items) - limit, 0)


def register_decision_tools(server: MCPServer, services: Callable[[], Services]) -> None:
    """Add the decision tools and the plan resource to `server`."""

    async def run(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        from api.mcp_tools import tool_errors

        with tool_errors():
            return await anyio.to_thread.run_sync(call)

    @server.tool()
    async def evaluate_plan(
        problem: Problem, plan: Plan, agents: list[str] | None = None
    ) -> dict[str, Any]:
        """Score a plan: weighted score, objectives, coded violations (first 20).

        Loads are listed only for the `agents` named.
        """
        result = await run(lambda: evaluate_request(problem, plan))
        violations, more = _cut(result["violations"])
        wanted = set(agents or [])
        return {
            "feasible": result["feasible"],
            "score": result["score"],
            "objectives": result["objectives"],
            "violations": violations,
            "violations_left_out": more,
            "n_unassigned": result["n_unassigned"],
            "loads": [row for row in result["loads"] if row["agent"] in wanted],
        }

    @server.tool()
    async def explain_plan(
        problem: Problem,
        plan: Plan,
        tasks: list[str] | None = None,
        agents: list[str] | None = None,
        alternatives: int = 3,
    ) -> dict[str, Any]:
        """Why tasks sit where they do: contributions, best alternatives (exact score
        change), and per blocked agent the coded reasons; per agent, binding resources.

        Without `tasks`, explains the unassigned tasks (or the first 20). Blocked
        agents are cut to 5 per task; agents are limited to `agents` (or 20).
        """
        chosen = tasks or (list(plan.unassigned) or list(plan.assignments))[:_LIST_LIMIT]
        if len(chosen) > 100:
            raise ToolError("explain at most 100 tasks per call; pass fewer in `tasks`")
        result = await run(lambda: explain_request(problem, plan, chosen, alternatives))
        for info in result["tasks"].values():
            blocked = list(info["blocked"].items())
            info["blocked"] = dict(blocked[:5])
            info["blocked_left_out"] = max(len(blocked) - 5, 0)
        names = agents or list(result["agents"])[:_LIST_LIMIT]
        result["agents"] = {a: result["agents"][a] for a in names if a in result["agents"]}
        return result

    @server.tool()
    async def recommend_agent(
        problem: Problem,
        plan: Plan,
        task: Task,
        communication: list[Communication] | None = None,
        top: int = 5,
    ) -> dict[str, Any]:
        """Where should this new task go? Agents ranked feasible first by exact score_delta
        (score with the task placed minus score now), with objective deltas and reasons."""
        document: dict[str, Any] = {"task": task.model_dump(), "communication": []}
        document["communication"] = [c.model_dump() for c in communication or []]
        return await run(lambda: recommend_request(problem, plan, task=document, top=top))

    @server.tool()
    async def recommend_tasks_for_agent(
        problem: Problem, plan: Plan, agent: str, top: int = 5
    ) -> dict[str, Any]:
        """The inverse: which tasks would best go to `agent` (unassigned first, then moves),
        with the same exact score deltas."""
        return await run(lambda: recommend_request(problem, plan, agent=agent, top=top))

    @server.resource(PLAN_URI, mime_type="application/json")
    async def job_plan(job_id: str) -> str:
        """The full chosen plan of a finished allocation job (`solve --out` format)."""
        svc = services()
        text = await anyio.to_thread.run_sync(svc.jobs.jobs.result_text, job_id)
        if not text:
            raise ValueError(f"job {job_id!r} has no result; poll get_job first")
        chosen = json.loads(text).get("chosen")
        if not chosen:
            raise ValueError(f"job {job_id!r} found no plan")
        return json.dumps(Plan.model_validate(chosen["plan"]).model_dump(exclude_none=True))
