"""Plan application: move queued tasks to the agents a `models.Plan` names."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from allocator.coordinator.dispatch import available, eligible
from allocator.coordinator.events import PlanApplied
from allocator.coordinator.records import LEASED
from models import Plan

if TYPE_CHECKING:
    from allocator.coordinator.state import CoordinatorState

__all__ = ["PlanResult", "apply_plan"]


@dataclass
class PlanResult:
    """What applying a plan did: tasks moved, of which migrations, and what was skipped."""

    moved: int = 0
    migrations: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    waiting_planned: int = 0  # waiting tasks that will be queued on their planned agent

    def command(self) -> PlanApplied:
        return PlanApplied(self.moved, self.migrations, dict(self.skipped))


def apply_plan(state: CoordinatorState, plan: Plan, now: float, reason: str = "plan") -> PlanResult:
    """Move each queued task the plan names to its agent. O(|plan|).

    Running (leased) and finished tasks are not touched; unknown ids, ineligible or
    unavailable agents are reported in `skipped` with a reason. A move off another
    agent's queue counts as a migration; a move out of the global queue does not.
    With a schedule, tasks are filed in order of planned start (so each agent's queue
    follows it), and waiting tasks remember their agent and start for their release.
    """
    result = PlanResult()
    starts = {t: s.start for t, s in (plan.schedule or {}).items()}
    items = list(plan.assignments.items())
    if starts:
        items.sort(key=lambda item: starts.get(item[0], math.inf))
    for task_id, agent_id in items:
        task = state.tasks.get(task_id)
        if task is None and task_id in state.deps.waiting:
            state.deps.planned[task_id] = (agent_id, starts.get(task_id, math.inf))
            result.waiting_planned += 1
            continue
        if task is None:
            result.skipped[task_id] = "unknown, completed or dead-lettered task"
            continue
        if task.state == LEASED:
            assert task.agent is not None
            result.skipped[task_id] = f"already running on agent {task.agent.id}"
            continue
        agent = state.agents.get(agent_id)
        if agent is None:
            result.skipped[task_id] = f"plan names unknown agent {agent_id!r}"
            continue
        if task.agent is agent:
            continue
        if not available(agent):
            result.skipped[task_id] = f"agent {agent_id} is not taking work (breaker open)"
            continue
        if not eligible(agent, task):
            result.skipped[task_id] = f"agent {agent_id} is not eligible for this task"
            continue
        src = task.agent
        state._unfile(task)
        state._migrated(task, src, agent, now, reason)
        result.moved += 1
        if src is not None:
            result.migrations += 1
    return result
