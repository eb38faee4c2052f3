"""Coded reasons a task cannot go to an agent: capability, pinned, capacity, max_tasks, groups.

Each reason carries a code a program can branch on and a message a person can act
on ("capability quantum missing", "cpu short by 1.5", "max_tasks 20 reached").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.plan_state import PlanState, TaskColumn
from models.schema import Problem

__all__ = ["Reason", "TaskFacts", "feasible_mask", "placement_reasons", "task_facts"]


@dataclass(frozen=True)
class Reason:
    """Why one placement breaks a hard constraint."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class TaskFacts:
    """What the reasons need from the request document about one task."""

    requires: tuple[str, ...]
    pinned_agent: str | None


def task_facts(problem: Problem, j: int) -> TaskFacts:
    task = problem.tasks[j]
    return TaskFacts(tuple(task.requires), task.pinned_agent)


def feasible_mask(state: PlanState, col: TaskColumn, agents: np.ndarray) -> np.ndarray:
    """bool[len(agents)]: placements that break no hard constraint (no reasons)."""
    compiled = state.problem
    mask = col.eligible[agents].copy()
    mask &= ~state.capacity_short(col, agents).any(axis=1)
    mask &= state.counts[agents] + 1 <= compiled.max_tasks[agents]
    a, j = state.assignment, col.index
    for group in state.anti_groups.get(j, []):
        taken = a[group[group != j]]
        mask &= ~np.isin(agents, taken[taken >= 0])
    for group in state.co_groups.get(j, []):
        where = np.unique(a[group[group != j]])
        if len(where) > 1 or where[0] < 0:
            mask[:] = False
        else:
            mask &= agents == where[0]
    return mask


def placement_reasons(
    problem: Problem,
    state: PlanState,
    col: TaskColumn,
    facts: TaskFacts,
    agents: np.ndarray,
) -> list[list[Reason]]:
    """For each candidate agent, the hard constraints the placement would break."""
    compiled = state.problem
    agents = np.asarray(agents, dtype=np.int64)
    # Plain lists: this loop runs once per blocked agent, numpy indexing would dominate it.
    short = state.capacity_short(col, agents).tolist()
    full = (state.counts[agents] + 1 > compiled.max_tasks[agents]).tolist()
    limit = compiled.max_tasks[agents].tolist()
    eligible = col.eligible[agents].tolist()
    in_groups = col.index in state.anti_groups or col.index in state.co_groups
    dims = compiled.resources
    out: list[list[Reason]] = []
    for row, i in enumerate(agents.tolist()):
        agent = problem.agents[i]
        reasons: list[Reason] = []
        for cap in facts.requires:
            if cap not in agent.capabilities:
                reasons.append(Reason("capability", f"capability {cap} missing"))
        if facts.pinned_agent is not None and facts.pinned_agent != agent.id:
            reasons.append(Reason("pinned", f"pinned to agent {facts.pinned_agent}"))
        for k, over in enumerate(short[row]):
            if over > 0:
                reasons.append(Reason("capacity", f"{dims[k]} short by {over:.6g}"))
        if full[row]:
            reasons.append(Reason("max_tasks", f"max_tasks {limit[row]} reached"))
        if in_groups:
            reasons.extend(_group_reasons(state, col.index, i))
        if not reasons and not eligible[row]:
            # Eligibility also rejects demand above the whole capacity (float32 check).
            reasons.append(Reason("capacity", "demand exceeds the agent's whole capacity"))
        out.append(reasons)
    return out


def _group_reasons(state: PlanState, j: int, agent: int) -> list[Reason]:
    tasks, agents = state.problem.task_ids, state.problem.agent_ids
    a = state.assignment
    reasons: list[Reason] = []
    for group in state.anti_groups.get(j, []):
        for other in group.tolist():
            if other != j and a[other] == agent:
                reasons.append(Reason("anti_affinity", f"anti-affinity with {tasks[other]}"))
    for group in state.co_groups.get(j, []):
        for other in group.tolist():
            if other == j or a[other] == agent:
                continue
            where = f"on agent {agents[a[other]]}" if a[other] >= 0 else "unassigned"
            reasons.append(Reason("co_location", f"co-location with {tasks[other]} ({where})"))
    return reasons
