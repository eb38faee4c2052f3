"""Rebalancing: `threshold` (move tail tasks off overloaded agents) and `adaptive`.

`adaptive` re-solves the queued work with an injected resolver (the facade wires the
portfolio in; the core never imports solvers), charging a migration cost so the new
plan moves little, and applies it only if the weighted objective improves by at
least `margin` (default 10%). With no resolver it falls back to `threshold`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from allocator.coordinator.dispatch import available, eligible
from allocator.coordinator.events import Rebalanced
from allocator.coordinator.plans import apply_plan
from allocator.coordinator.records import AgentRecord
from models import Agent, Objectives, Plan, Problem, Task, compile_problem, evaluate_plan
from models import plan_to_array as _plan_to_array

if TYPE_CHECKING:
    from allocator.coordinator.core import Coordinator

__all__ = ["STRATEGIES", "Outcome", "Resolver", "build_problem", "rebalance"]

#: Re-solve function: queued work (tasks carry current_agent) -> a new plan.
Resolver = Callable[[Problem], Plan]
STRATEGIES: tuple[str, ...] = ("threshold", "adaptive")
_PRIORITY_NAMES = ("critical", "high", "normal", "low")


@dataclass
class Outcome:
    """What a rebalancing run did."""

    strategy: str
    migrations: int
    applied: bool
    detail: str

    def command(self) -> Rebalanced:
        return Rebalanced(self.strategy, self.migrations, self.detail)


def rebalance(
    coord: Coordinator,
    strategy: str,
    now: float,
    *,
    tolerance: float = 0.2,
    margin: float = 0.1,
    migration_weight: float = 0.05,
) -> Outcome:
    """Run `strategy` ("threshold" or "adaptive") once."""
    if strategy == "threshold":
        return threshold(coord, now, tolerance)
    if strategy == "adaptive":
        return adaptive(coord, now, margin, migration_weight, tolerance)
    raise ValueError(f"unknown rebalancing strategy {strategy!r}; choose one of {STRATEGIES}")


def _backlog_s(agent: AgentRecord) -> float:
    return (agent.load + agent.leased_load) / agent.speed


def threshold(coord: Coordinator, now: float, tolerance: float) -> Outcome:
    """Agents above mean backlog * (1 + tolerance) give tail tasks to the least loaded.

    The mean is speed-weighted (total work over total speed). A move happens only if
    it leaves the receiver below the giver, so a second run moves nothing back.
    O(n log n + moves log n).
    """
    agents = [a for a in coord.agent_list if available(a)]
    speed = sum(a.speed for a in agents)
    if not agents or speed <= 0:
        return Outcome("threshold", 0, False, "no available agents")
    mean_s = sum(a.load + a.leased_load for a in agents) / speed
    limit_s = mean_s * (1.0 + tolerance)
    under = [(_backlog_s(a), a.index, a) for a in agents if _backlog_s(a) < mean_s]
    heapq.heapify(under)
    moved = 0
    for giver in sorted(agents, key=_backlog_s, reverse=True):
        if _backlog_s(giver) <= limit_s or not under:
            break
        while _backlog_s(giver) > limit_s and under and len(giver.queue):
            task = giver.queue.steal_one()
            assert task is not None
            giver.load -= task.est
            _b, _i, taker = heapq.heappop(under)
            gives = (
                taker is not giver
                and eligible(taker, task)
                and _backlog_s(taker) + task.est / taker.speed < _backlog_s(giver)
            )
            if not gives:
                giver.queue.unsteal(task)
                giver.load += task.est
                heapq.heappush(under, (_backlog_s(taker), taker.index, taker))
                break
            coord.detach_stolen(giver, task)
            coord._migrated(task, giver, taker, now, "rebalance")
            moved += 1
            if _backlog_s(taker) < mean_s:
                heapq.heappush(under, (_backlog_s(taker), taker.index, taker))
    return Outcome("threshold", moved, moved > 0, f"mean backlog {mean_s:.3g} s")


def build_problem(coord: Coordinator, migration_weight: float = 0.05) -> Problem | None:
    """Queued work on local queues as a `models.Problem` (current_agent set). O(n + m)."""
    agents = [a for a in coord.agent_list if available(a)]
    queued = [t for a in agents for t in a.queue.tasks()]
    if not agents or not queued:
        return None
    dims = sorted(
        {d for a in agents for d in a.capacity} | {d for t in queued for d in t.demand or {}}
    )
    mean_runtime = (
        sum(t.est for t in queued) / len(queued) / (sum(a.speed for a in agents) / len(agents))
    )
    return Problem(
        name="rebalance",
        resources=dims or ["cpu"],
        agents=[
            Agent(
                id=a.id,
                capacity=dict(a.capacity),
                speed=a.speed,
                capabilities=sorted(a.capabilities),
                node=None,
            )
            for a in agents
        ],
        tasks=[
            Task(
                id=t.id,
                demand=dict(t.demand or {}),
                work=t.est,
                priority=_PRIORITY_NAMES[min(max(t.priority, 0), 3)],  # type: ignore[arg-type]
                requires=sorted(t.requires),
                tenant=t.tenant,
                weight=t.weight,
                kind=t.kind,
                pinned_agent=t.pinned,
                current_agent=t.agent.id if t.agent is not None else None,
            )
            for t in queued
        ],
        objectives=Objectives(
            mode="weighted",
            weights={"makespan": 1.0, "migrations": migration_weight * mean_runtime},
        ),
    )


def adaptive(
    coord: Coordinator, now: float, margin: float, migration_weight: float, tolerance: float
) -> Outcome:
    """Re-solve queued work; apply the plan only if it beats the current one by `margin`."""
    if coord.resolver is None:
        fallback = threshold(coord, now, tolerance)
        fallback.strategy = "adaptive"
        fallback.detail = "no resolver injected; threshold used: " + fallback.detail
        return fallback
    problem = build_problem(coord, migration_weight)
    if problem is None:
        return Outcome("adaptive", 0, False, "nothing queued on agents")
    compiled = compile_problem(problem)
    current = evaluate_plan(compiled, np.asarray(compiled.current))
    plan = coord.resolver(problem)
    proposed = evaluate_plan(compiled, _plan_to_array(compiled, plan))
    if proposed.violations:
        return Outcome(
            "adaptive", 0, False, f"re-solve plan infeasible: {proposed.violations[0].message}"
        )
    if proposed.score > (1.0 - margin) * current.score:
        return Outcome(
            "adaptive",
            0,
            False,
            f"kept current plan: {proposed.score:.4g} vs {current.score:.4g} is under the "
            f"{margin:.0%} improvement margin",
        )
    result = apply_plan(coord, plan, now)
    return Outcome(
        "adaptive",
        result.migrations,
        True,
        f"objective {current.score:.4g} -> {proposed.score:.4g}",
    )
