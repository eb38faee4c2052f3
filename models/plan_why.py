"""The "Why" of a chosen plan for reports: binding resources per agent, and for each
unassigned task the coded reasons no agent could take it."""

from __future__ import annotations

from collections import Counter

import numpy as np
from pydantic import BaseModel, Field

from models.compiled import CompiledProblem
from models.explanation import agent_explanations
from models.placement_reasons import placement_reasons, task_facts
from models.plan_state import PlanState, column_of
from models.schema import Problem

__all__ = ["AgentWhy", "PlanWhy", "UnassignedWhy", "plan_why"]

#: Unassigned tasks explained in a report; the rest are counted.
MAX_UNASSIGNED_EXPLAINED = 200


class AgentWhy(BaseModel):
    """Which resources bind on one agent and the slack left per resource."""

    agent: str
    binding: list[str]
    slack: dict[str, float]


class UnassignedWhy(BaseModel):
    """Why one task has no agent: how many agents each reason code rules out."""

    task: str
    reasons: dict[str, int] = Field(description="reason code -> number of agents it rules out")
    examples: list[str] = Field(default_factory=list, description="A few reasons in words.")


class PlanWhy(BaseModel):
    """The report's Why section."""

    agents: list[AgentWhy]
    unassigned: list[UnassignedWhy]
    unassigned_not_explained: int = 0


def plan_why(problem: Problem, compiled: CompiledProblem, assignment: np.ndarray) -> PlanWhy:
    """Binding resources per agent and reasons per unassigned task (first 200)."""
    state = PlanState(compiled, assignment)
    agents = [
        AgentWhy(agent=a, binding=info["binding"], slack=info["slack"])
        for a, info in agent_explanations(problem, state).items()
    ]
    missing = np.flatnonzero(state.assignment < 0)
    every = np.arange(compiled.n_agents)
    unassigned: list[UnassignedWhy] = []
    for j in missing[:MAX_UNASSIGNED_EXPLAINED].tolist():
        col = column_of(state, j)
        found = placement_reasons(problem, state, col, task_facts(problem, j), every)
        codes: Counter[str] = Counter()
        examples: list[str] = []
        for agent_id, reasons in zip(compiled.agent_ids, found, strict=True):
            codes.update({r.code for r in reasons})
            if reasons and len(examples) < 3:
                examples.append(f"{agent_id}: " + "; ".join(r.message for r in reasons))
        if not codes:
            examples.append("an agent could take it; leaving it out scored better")
        unassigned.append(
            UnassignedWhy(task=compiled.task_ids[j], reasons=dict(codes), examples=examples)
        )
    return PlanWhy(
        agents=agents,
        unassigned=unassigned,
        unassigned_not_explained=max(len(missing) - MAX_UNASSIGNED_EXPLAINED, 0),
    )
