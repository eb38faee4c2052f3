"""Coordinator routes under /v1/swarms/{swarm}: agents, tasks, pulls, plans, rebalancing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.dependencies import get_services
from api.security import require_token
from api.services import Services
from api.swarm_schemas import (
    AgentRegistration,
    AgentsIn,
    AgentView,
    CompleteIn,
    FailIn,
    PlanIn,
    PullIn,
    PullOut,
    RebalanceOut,
    SubmitOut,
    TasksIn,
    TokenPriceIn,
    TokenUsageOut,
)
from api.swarm_service import SwarmService

__all__ = ["router"]

router = APIRouter(prefix="/v1/swarms", tags=["swarms"], dependencies=[Depends(require_token)])

SwarmId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]
ItemId = Annotated[str, Path(min_length=1, max_length=200)]
Since = Annotated[float | None, Query(description="Unix seconds, inclusive.")]
Until = Annotated[float | None, Query(description="Unix seconds, inclusive.")]


async def _swarms(services: Annotated[Services, Depends(get_services)]) -> SwarmService:
    return services.swarms


Swarms = Annotated[SwarmService, Depends(_swarms)]


class Ok(BaseModel):
    ok: bool = True


class TaskState(BaseModel):
    id: str
    state: str
    blocked_by: str | None = None  # held tasks: the dead-lettered predecessor


class PlanApplied(BaseModel):
    moved: int
    migrations: int
    skipped: dict[str, str]
    waiting_planned: int = 0


class SwarmSummary(BaseModel):
    name: str
    kpis: dict[str, Any]


class HistoryEntry(BaseModel):
    at: float
    data: dict[str, Any]


@router.get("")
async def list_swarms(swarms: Swarms) -> list[SwarmSummary]:
    """Every swarm with its current KPIs."""
    hub = swarms.hub
    return [SwarmSummary(name=n, kpis=hub.get(n).kpis()) for n in hub.names()]


@router.post("/{swarm}/agents")
async def register_agents(swarm: SwarmId, body: AgentsIn, swarms: Swarms) -> AgentRegistration:
    """Register agents (creating the swarm); known ids count as a heartbeat."""
    added, known = await swarms.register(swarm, body.agents)
    return AgentRegistration(registered=added, known=known)


@router.get("/{swarm}/agents")
async def list_agents(swarm: SwarmId, swarms: Swarms) -> list[AgentView]:
    """Per-agent view: state, capabilities, load, queue, leases, utilisation, breaker."""
    return swarms.agents(swarm)


@router.post("/{swarm}/agents/{agent_id}/heartbeat")
async def heartbeat(swarm: SwarmId, agent_id: ItemId, swarms: Swarms) -> Ok:
    swarms.heartbeat(swarm, agent_id)
    return Ok()


@router.post("/{swarm}/agents/{agent_id}/pull", response_model=PullOut)
async def pull(
    swarm: SwarmId,
    agent_id: ItemId,
    swarms: Swarms,
    body: Annotated[PullIn | None, Body()] = None,
    max_tasks: Annotated[int, Query(ge=1, le=100)] = 1,
) -> Response:
    """Lease the agent's next task(s); the body may acknowledge finished ones first."""
    # Serialised here: returned as a model, FastAPI would validate it again (the hot path).
    out = swarms.pull(swarm, agent_id, max_tasks, body)
    return Response(out.model_dump_json(), media_type="application/json")


@router.post("/{swarm}/tasks", status_code=202)
async def submit_tasks(swarm: SwarmId, body: TasksIn, swarms: Swarms) -> SubmitOut:
    """Submit a batch of tasks; they are stored before this answers."""
    return await swarms.submit(swarm, body.tasks)


@router.get("/{swarm}/tasks/{task_id}")
async def task_state(swarm: SwarmId, task_id: ItemId, swarms: Swarms) -> TaskState:
    """queued, leased, done, dead or unknown."""
    state, blocked_by = swarms.task_state(swarm, task_id)
    return TaskState(id=task_id, state=state, blocked_by=blocked_by)


@router.post("/{swarm}/tasks/{task_id}/complete", responses={409: {"description": "Refused."}})
async def complete_task(swarm: SwarmId, task_id: ItemId, body: CompleteIn, swarms: Swarms) -> Ok:
    swarms.complete(swarm, task_id, body.agent_id, body.runtime_s, body.tokens)
    return Ok()


@router.post("/{swarm}/tasks/{task_id}/fail", responses={409: {"description": "Refused."}})
async def fail_task(swarm: SwarmId, task_id: ItemId, body: FailIn, swarms: Swarms) -> Ok:
    swarms.fail(swarm, task_id, body.agent_id, body.error)
    return Ok()


@router.get("/{swarm}/held")
async def held_tasks(swarm: SwarmId, swarms: Swarms) -> dict[str, str]:
    """Tasks that will not run -> the dead-lettered predecessor blocking each."""
    return swarms.held(swarm)


@router.get("/{swarm}/tokens")
async def token_usage(swarm: SwarmId, swarms: Swarms) -> TokenUsageOut:
    """Tokens reported with completions and their cost, per agent, task kind and tenant."""
    return swarms.token_usage(swarm)


@router.put("/{swarm}/token-price")
async def set_token_price(swarm: SwarmId, body: TokenPriceIn, swarms: Swarms) -> TokenUsageOut:
    """Set the swarm's price per 1,000 tokens (agents with their own price keep it)."""
    return await swarms.set_token_price(swarm, body.price_per_1k)


@router.post("/{swarm}/plans")
async def apply_plan(swarm: SwarmId, body: PlanIn, swarms: Swarms) -> PlanApplied:
    """Move queued tasks to the agents a finished allocation job chose."""
    return PlanApplied(**await swarms.apply_job_plan(swarm, body.job_id))


@router.post("/{swarm}/rebalance")
async def rebalance(
    swarm: SwarmId,
    swarms: Swarms,
    strategy: Annotated[Literal["threshold", "adaptive"], Query()] = "threshold",
) -> RebalanceOut:
    """Rebalance now; the decision is stored in the history."""
    return await swarms.rebalance(swarm, strategy)


@router.get("/{swarm}/kpis")
async def kpis(swarm: SwarmId, swarms: Swarms) -> dict[str, Any]:
    """Load variance, migration rate, queue latency, utilisation, Jain's fairness, ..."""
    return swarms.swarm(swarm).kpis()


@router.get("/{swarm}/history/rebalances")
async def rebalance_history(
    swarm: SwarmId, swarms: Swarms, since: Since = None, until: Until = None
) -> list[HistoryEntry]:
    """Rebalancing decisions, newest first: what moved, why, KPIs before and after."""
    events = await run_in_threadpool(swarms.hub.repository.rebalances, swarm, since, until)
    return [
        HistoryEntry(
            at=e.at,
            data={
                "strategy": e.strategy,
                "reason": e.reason,
                "moves": e.moves,
                "kpi_before": e.kpi_before,
                "kpi_after": e.kpi_after,
            },
        )
        for e in events
    ]


@router.get("/{swarm}/history/kpis")
async def kpi_history(
    swarm: SwarmId, swarms: Swarms, since: Since = None, until: Until = None
) -> list[HistoryEntry]:
    """KPI snapshots (every ALLOCATOR_KPI_SNAPSHOT_S), newest first."""
    snapshots = await run_in_threadpool(swarms.hub.repository.kpi_history, swarm, since, until)
    return [HistoryEntry(at=s.at, data=s.kpis) for s in snapshots]
