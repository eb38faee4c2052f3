"""A plan as people and JSON see it (task id -> agent id), and its array form."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from models.compiled import CompiledProblem

__all__ = ["Plan", "plan_from_array", "plan_to_array"]


class Plan(BaseModel):
    """Which agent runs each task; tasks left out are unassigned."""

    assignments: dict[str, str] = Field(default_factory=dict)
    unassigned: list[str] = Field(default_factory=list)


def plan_from_array(problem: CompiledProblem, assignment: np.ndarray) -> Plan:
    """Array (agent index per task, -1 unassigned) -> Plan. O(n)."""
    assignments: dict[str, str] = {}
    unassigned: list[str] = []
    for j, i in enumerate(np.asarray(assignment).tolist()):
        if i < 0:
            unassigned.append(problem.task_ids[j])
        else:
            assignments[problem.task_ids[j]] = problem.agent_ids[i]
    return Plan(assignments=assignments, unassigned=unassigned)


def plan_to_array(problem: CompiledProblem, plan: Plan) -> np.ndarray:
    """Plan -> int32[n]; unknown ids raise ValueError naming them. O(n)."""
    agent_index = {a: i for i, a in enumerate(problem.agent_ids)}
    task_index = {t: j for j, t in enumerate(problem.task_ids)}
    out = np.full(problem.n_tasks, -1, dtype=np.int32)
    for task, agent in plan.assignments.items():
        if task not in task_index:
            raise ValueError(f"plan names unknown task {task!r}")
        if agent not in agent_index:
            raise ValueError(f"plan puts task {task!r} on unknown agent {agent!r}")
        out[task_index[task]] = agent_index[agent]
    return out
