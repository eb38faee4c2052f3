"""Plan application: move queued tasks to the agents a `models.Plan` names."""

from __future__ import annotations

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

    def command(self) -> PlanApplied:
        return PlanApplied(self.moved, self.migrations, dict(self.skipped))


def apply_plan(state: CoordinatorState, plan: Plan, now: float, reason: str = "plan") -> PlanResult:
    """Move each queued task the plan names to its agent. O(|plan|).

    Running (leased) and finished tasks are not touched; unknown ids, ineligible or
    unavailable agents are reported in `skipped` with a reason. A move off another
    agent's queue counts as a migration; a move out of the global queue does not.
    """
    result = PlanResult()
    for task_id, agent_id in plan.assignments.items():
        task = state.tasks.get(task_id)
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
