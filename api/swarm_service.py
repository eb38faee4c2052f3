"""What the swarm routes do: convert bodies to coordinator records, persist, report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from prometheus_client.core import Metric
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from allocator.coordinator import CoordinatorError, UnknownAgentError, UsageLine
from allocator.coordinator.records import PRIORITY_RANK, AgentSpec, TaskSpec
from allocator.problem_files import format_validation_error
from allocator.store import JobRepository
from allocator.swarms import CoordinatorTuning, SwarmHub, SwarmRuntime, UnknownSwarmError
from api.agent_registration import register_store_first
from api.observability import gauge
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
    TokenUsageOut,
    UsageLineOut,
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
                token_price=a.token_price_per_1k,
            )
            for a in agents
        ]
        # Store first, then memory: a failed write is a 503 with no agent added.
        added = await run_in_threadpool(
            _guard, lambda: register_store_first(self.hub, runtime, specs)
        )
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
                after=tuple(t.after),
            )
            for t in tasks
        ]
        accepted, rejected = _guard(lambda: runtime.submit(specs))
        # Saved before the answer: an accepted task survives a crash.
        await run_in_threadpool(self.hub.save, runtime)
        waiting, held = runtime.parked(accepted)
        return SubmitOut(accepted=accepted, rejected=rejected, waiting=waiting, held=held)

    def pull(self, name: str, agent_id: str, max_tasks: int, body: PullIn | None) -> PullOut:
        runtime = self.swarm(name)
        completed = [(a.task_id, a.runtime_s, a.tokens) for a in body.completed] if body else []
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

    def complete(
        self,
        name: str,
        task_id: str,
        agent_id: str,
        runtime_s: float | None,
        tokens: int | None = None,
    ) -> None:
        runtime = self.swarm(name)
        result = _guard(lambda: runtime.pull(agent_id, 0, [(task_id, runtime_s, tokens)]))
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

    def task_state(self, name: str, task_id: str) -> tuple[str, str | None]:
        """The state ("held" ones with the dead-lettered predecessor blocking them)."""
        return self.swarm(name).task_state(task_id)

    def held(self, name: str) -> dict[str, str]:
        return self.swarm(name).held()

    def token_usage(self, name: str) -> TokenUsageOut:
        totals = self.swarm(name).token_usage()

        def line(u: UsageLine) -> UsageLineOut:
            return UsageLineOut(tokens=u.tokens, cost=u.cost, completions=u.completions)

        return TokenUsageOut(
            swarm=name,
            price_per_1k=totals.price_per_1k,
            total=line(totals.total),
            by_agent={k: line(v) for k, v in totals.by_agent.items()},
            by_kind={k: line(v) for k, v in totals.by_kind.items()},
            by_tenant={k: line(v) for k, v in totals.by_tenant.items()},
        )

    async def set_token_price(self, name: str, price_per_1k: float) -> TokenUsageOut:
        runtime = self.swarm(name)
        runtime.set_token_price(price_per_1k)
        await run_in_threadpool(self.hub.save, runtime)
        return self.token_usage(name)

    def token_gauges(self) -> Iterator[Metric]:
        """Prometheus series: tokens and cost per swarm and agent, kind and tenant."""
        tokens: dict[tuple[str, ...], float] = {}
        cost: dict[tuple[str, ...], float] = {}
        for name in self.hub.names():
            totals = self.hub.get(name).token_usage()
            for by, table in (
                ("agent", totals.by_agent),
                ("kind", totals.by_kind),
                ("tenant", totals.by_tenant),
            ):
                for key, u in table.items():
                    tokens[(name, by, key)] = float(u.tokens)
                    cost[(name, by, key)] = u.cost
        labels = ["swarm", "by", "key"]
        yield gauge(
            "allocator_swarm_tokens",
            "Tokens agents reported with completions, per agent, task kind or tenant.",
            labels,
            tokens,
        )
        yield gauge(
            "allocator_swarm_token_cost",
            "Cost of those tokens at the agent's or the swarm's price per 1,000 tokens.",
            labels,
            cost,
        )

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
                state=a.state,
                capabilities=list(a.capabilities),
                load_s=a.load_s,
                node=a.node,
                token_price_per_1k=a.token_price,
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
