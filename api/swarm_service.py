"""What the swarm routes do: convert bodies to coordinator records, persist, report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from allocator.coordinator import CoordinatorError, UnknownAgentError
from allocator.coordinator.records import PRIORITY_RANK, AgentSpec, TaskSpec
from allocator.problem_files import format_validation_error
from allocator.store import JobRepository
from allocator.swarms import CoordinatorTuning, SwarmHub, SwarmRuntime, UnknownSwarmError
from api.problems import ApiProblem
from api.swarm_schemas import (
    AgentIn,
    AgentView,
    LeasedTask,
    PullIn,
    PullOut,
    RebalanceOut,
    SubmitOut,
    TaskIn,
)
from models import Plan

__all__ = ["SwarmService"]

T = TypeVar("T")


class SwarmService:
    """Swarm operations for the routes; raises ApiProblem with what to change."""

    def __init__(self, hub: SwarmHub, jobs: JobRepository):
        self.hub = hub
        self.jobs = jobs

    def swarm(self, name: str) -> SwarmRuntime:
        try:
            return self.hub.get(name)
        except UnknownSwarmError as exc:
            raise ApiProblem(
                404,
                f"no swarm {name!r}; register agents first with POST /v1/swarms/{name}/agents",
            ) from exc

    async def register(self, name: str, agents: list[AgentIn]) -> tuple[list[str], list[str]]:
        runtime = self.hub.get_or_create(name)
        specs = [
            AgentSpec(
                id=a.id,
                speed=a.speed,
                capabilities=frozenset(a.capabilities),
                capacity=dict(a.capacity),
                node=a.node,
                slots=a.slots,
                max_tasks=a.max_tasks,
            )
            for a in agents
        ]
        added = _guard(lambda: runtime.register_agents(specs))
        await run_in_threadpool(self.hub.save, runtime)
        return added, [a.id for a in agents if a.id not in set(added)]

    async def submit(self, name: str, tasks: list[TaskIn]) -> SubmitOut:
        runtime = self.swarm(name)
        now = time.time()
        specs = [
            TaskSpec(
                id=t.id,
                work=t.work,
                kind=t.kind,
                priority=PRIORITY_RANK[t.priority],
                tenant=t.tenant,
                weight=t.weight,
                deadline=now + t.deadline_s if t.deadline_s is not None else None,
                requires=frozenset(t.requires),
                pinned_agent=t.pinned_agent,
                demand=t.demand,
                group=t.group,
            )
            for t in tasks
        ]
        accepted, rejected = runtime.submit(specs)
        # Saved before the answer: an accepted task survives a crash.
        await run_in_threadpool(self.hub.save, runtime)
        return SubmitOut(accepted=accepted, rejected=rejected)

    def pull(self, name: str, agent_id: str, max_tasks: int, body: PullIn | None) -> PullOut:
        runtime = self.swarm(name)
        completed = [(a.task_id, a.runtime_s) for a in body.completed] if body else []
        failed = [(f.task_id, f.error) for f in body.failed] if body else []
        result = _guard(lambda: runtime.pull(agent_id, max_tasks, completed, failed))
        expires = time.time() + self.hub.tuning.lease_timeout_s
        return PullOut(
            tasks=[
                LeasedTask(
                    id=t.id,
                    work=t.work,
                    kind=t.kind,
                    priority=t.priority,
                    tenant=t.tenant,
                    deadline=t.deadline,
                    lease_expires_at=expires,
                )
                for t in result.tasks
            ],
            rejected=result.rejected,
        )

    def complete(self, name: str, task_id: str, agent_id: str, runtime_s: float | None) -> None:
        runtime = self.swarm(name)
        result = _guard(lambda: runtime.pull(agent_id, 0, [(task_id, runtime_s)]))
        if result.rejected:
            raise ApiProblem(409, f"completion of {task_id} refused: {result.rejected[task_id]}")

    def fail(self, name: str, task_id: str, agent_id: str, error: str) -> None:
        runtime = self.swarm(name)
        result = _guard(lambda: runtime.pull(agent_id, 0, failed=[(task_id, error)]))
        if result.rejected:
            raise ApiProblem(409, f"failure of {task_id} refused: {result.rejected[task_id]}")

    def heartbeat(self, name: str, agent_id: str) -> None:
        runtime = self.swarm(name)
        _guard(lambda: runtime.heartbeat(agent_id))

    def task_state(self, name: str, task_id: str) -> str:
        return self.swarm(name).task_state(task_id)

    async def rebalance(self, name: str, strategy: str) -> RebalanceOut:
        runtime = self.swarm(name)
        tuning = self.hub.tuning
        record = await run_in_threadpool(
            runtime.rebalance, strategy, tuning.rebalance_tolerance, tuning.rebalance_max_moves
        )
        await run_in_threadpool(self.hub.record_rebalance, name, record)
        return RebalanceOut(**record.__dict__)

    async def apply_job_plan(self, name: str, job_id: str) -> dict[str, Any]:
        runtime = self.swarm(name)
        job = await run_in_threadpool(self.jobs.get, job_id)
        if job is None:
            raise ApiProblem(404, f"no job {job_id!r}; list jobs with GET /v1/jobs")
        if job.kind not in ("allocation", "comparison") or not job.has_result:
            raise ApiProblem(
                409, f"job {job_id} is a {job.status} {job.kind} job without a plan to apply"
            )
        text = await run_in_threadpool(self.jobs.result_text, job_id)
        chosen = json.loads(text or "{}").get("chosen")
        if not chosen:
            raise ApiProblem(409, f"job {job_id} found no plan ({job.solution}); nothing to apply")
        plan = Plan.model_validate(chosen["plan"])
        return await run_in_threadpool(runtime.apply_plan, plan)

    def agents(self, name: str) -> list[AgentView]:
        snapshot = self.swarm(name).view()
        return [
            AgentView(
                id=a.id,
                speed=a.speed,
                slots=a.slots,
                queued=a.queued,
                leased=a.leased,
                completed=a.completed,
                utilisation=a.utilisation,
                breaker=a.breaker,
            )
            for a in snapshot.agents
        ]

    async def set_tuning(self, changes: dict[str, Any]) -> CoordinatorTuning:
        try:
            return await run_in_threadpool(self.hub.set_tuning, changes)
        except ValidationError as exc:
            raise ApiProblem(422, format_validation_error(exc)) from exc
        except CoordinatorError as exc:  # a value the form allowed but a coordinator refused
            raise ApiProblem(422, str(exc)) from exc


def _guard(call: Callable[[], T]) -> T:
    """Coordinator refusals (unknown agent, bad spec) become 404/422 problems."""
    try:
        return call()
    except CoordinatorError as exc:
        status = 404 if isinstance(exc, UnknownAgentError) else 422
        raise ApiProblem(status, str(exc).strip("'\"")) from exc
    except ValueError as exc:
        raise ApiProblem(422, str(exc)) from exc
