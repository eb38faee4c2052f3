"""A plan as people and JSON see it (task id -> agent id), and its array form."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from models.compiled import CompiledProblem
from models.schedule_chain import binding_predecessors
from models.schedule_check import derive_schedule

__all__ = ["Plan", "ScheduledTask", "plan_from_array", "plan_start_array", "plan_to_array"]


class ScheduledTask(BaseModel):
    """When and where one task of a workflow runs (seconds from plan start)."""

    agent: str
    start: float
    finish: float
    waits_for: str | None = Field(
        default=None,
        description="The task whose output (or whose end on this agent) this start waits "
        "on; following it back from the last finish gives the critical path.",
    )


class Plan(BaseModel):
    """Which agent runs each task; tasks left out are unassigned.

    Workflows (tasks with `after`) also get `schedule`: task id -> agent, start, finish.
    """

    assignments: dict[str, str] = Field(default_factory=dict)
    unassigned: list[str] = Field(default_factory=list)
    schedule: dict[str, ScheduledTask] | None = None


def plan_from_array(
    problem: CompiledProblem, assignment: np.ndarray, start: np.ndarray | None = None
) -> Plan:
    """Array (agent index per task, -1 unassigned) -> Plan. O(n).

    A workflow's plan carries its schedule: `start` (float64[n]) when given, else the
    one `derive_schedule` builds from the assignment.
    """
    assignments: dict[str, str] = {}
    unassigned: list[str] = []
    for j, i in enumerate(np.asarray(assignment).tolist()):
        if i < 0:
            unassigned.append(problem.task_ids[j])
        else:
            assignments[problem.task_ids[j]] = problem.agent_ids[i]
    plan = Plan(assignments=assignments, unassigned=unassigned)
    if problem.workflow is not None:
        plan.schedule = _schedule(problem, np.asarray(assignment), start)
    return plan


def _schedule(
    problem: CompiledProblem, assignment: np.ndarray, start: np.ndarray | None
) -> dict[str, ScheduledTask]:
    if start is None:
        start = derive_schedule(problem, assignment)
    out: dict[str, ScheduledTask] = {}
    waits = binding_predecessors(problem, assignment, start)
    for j, i in enumerate(assignment.tolist()):
        if i >= 0:
            begin = float(start[j])
            out[problem.task_ids[j]] = ScheduledTask(
                agent=problem.agent_ids[i],
                start=begin,
                finish=begin + float(problem.duration[i, j]),
                waits_for=problem.task_ids[waits[j]] if waits[j] >= 0 else None,
            )
    return out


def plan_start_array(problem: CompiledProblem, plan: Plan) -> np.ndarray | None:
    """A plan's schedule as float64[n] start times (NaN where missing), None without one."""
    if plan.schedule is None:
        return None
    task_index = {t: j for j, t in enumerate(problem.task_ids)}
    start = np.full(problem.n_tasks, np.nan)
    for task, slot in plan.schedule.items():
        if task not in task_index:
            raise ValueError(f"plan schedules unknown task {task!r}")
        if plan.assignments.get(task) != slot.agent:
            raise ValueError(
                f"plan schedules task {task!r} on {slot.agent!r} but assigns it to "
                f"{plan.assignments.get(task)!r}; make them agree"
            )
        start[task_index[task]] = slot.start
    return start


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
