"""Why a plan is what it is: per task its contributions, best alternatives and blockers;
per agent the resources that bind and the slack left.

Every score change here is exact (two `evaluate_plan` calls would give the same).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.compiled import CompiledProblem, compile_problem
from models.errors import InputError
from models.placement_reasons import feasible_mask, placement_reasons, task_facts
from models.plan_state import PlanState, column_of
from models.schema import OBJECTIVE_NAMES, Problem

__all__ = ["agent_explanations", "explain_plan", "explain_task"]


def explain_plan(
    problem: Problem,
    assignment: np.ndarray,
    tasks: list[str] | None = None,
    alternatives: int = 3,
    compiled: CompiledProblem | None = None,
) -> dict[str, Any]:
    """`{"score", "tasks": {task_id: {...}}, "agents": {agent_id: {...}}}`.

    `tasks` covers the named tasks (all by default); `agents` covers every agent.
    """
    compiled = compiled or compile_problem(problem)
    state = PlanState(compiled, assignment)
    index = {t: j for j, t in enumerate(compiled.task_ids)}
    chosen = tasks if tasks else compiled.task_ids
    for task_id in chosen:
        if task_id not in index:
            raise InputError(f"unknown task {task_id!r}; use a task of the problem", field="task")
    return {
        "score": state.evaluation.score,
        "tasks": {t: explain_task(problem, state, index[t], alternatives) for t in chosen},
        "agents": agent_explanations(problem, state),
    }


def explain_task(problem: Problem, state: PlanState, j: int, alternatives: int) -> dict[str, Any]:
    """One task: where it is, what it adds, where else it could go and what stops it."""
    compiled = state.problem
    col = column_of(state, j)
    detached = state.detach(col)
    src = detached.from_agent
    agents = np.arange(compiled.n_agents)
    agents = agents[agents != src]
    if state.needs_full_evaluation:
        unplace = state.evaluated_deltas(j, np.array([-1]))[0]
        deltas = state.evaluated_deltas(j, agents)
    else:
        unplace = state.detach_deltas(detached)
        deltas = state.place_deltas(detached, agents)
    scores = state.score_deltas(deltas)
    feasible = feasible_mask(state, col, agents)
    blocked = agents[~feasible]
    reasons = placement_reasons(problem, state, col, task_facts(problem, j), blocked)
    open_rows = np.flatnonzero(feasible)
    best = open_rows[np.argsort(scores[open_rows], kind="stable")[:alternatives]]
    ids = compiled.agent_ids
    return {
        "agent": ids[src] if src >= 0 else None,
        # contribution: objective(plan) - objective(plan with this task left unassigned)
        "contribution": _named(-unplace),
        "score_contribution": float(-state.score_deltas(unplace[None, :])[0]),
        "alternatives": [
            {
                "agent": ids[agents[k]],
                "score_delta": float(scores[k]),
                "objectives_delta": _named(deltas[k]),
            }
            for k in best.tolist()
        ],
        "blocked": {
            ids[i]: [r.to_dict() for r in rs]
            for i, rs in zip(blocked.tolist(), reasons, strict=True)
        },
    }


def agent_explanations(problem: Problem, state: PlanState) -> dict[str, dict[str, Any]]:
    """Per agent: slack per resource, the resources that bind, and task-count headroom.

    A resource binds when its slack is below the smallest demand on it among the
    tasks eligible for the agent that are not on it: no such task could be added.
    """
    compiled = state.problem
    slack = state.capacity - state.usage
    usage = compiled.usage.astype(np.float64)
    out: dict[str, dict[str, Any]] = {}
    for i, agent_id in enumerate(compiled.agent_ids):
        others = compiled.eligible[i] & (state.assignment != i)
        binding: list[str] = []
        smallest: dict[str, float | None] = {}
        for k, dim in enumerate(compiled.resources):
            demands = usage[i, others, k]
            demands = demands[demands > 0]
            least = float(demands.min()) if len(demands) else None
            smallest[dim] = least
            if least is not None and slack[i, k] < least:
                binding.append(dim)
        full = bool(state.counts[i] >= compiled.max_tasks[i])
        if full:
            binding.append("max_tasks")
        out[agent_id] = {
            "tasks": int(state.counts[i]),
            "load_s": float(state.load[i]),
            "slack": {dim: float(slack[i, k]) for k, dim in enumerate(compiled.resources)},
            "binding": binding,
            "smallest_other_demand": smallest,
            "max_tasks_left": None
            if compiled.max_tasks[i] > compiled.n_tasks
            else int(compiled.max_tasks[i] - state.counts[i]),
        }
    return out


def _named(row: np.ndarray) -> dict[str, float]:
    return dict(zip(OBJECTIVE_NAMES, row.tolist(), strict=True))
