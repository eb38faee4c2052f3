"""Cut a sub-problem out of a request: free some tasks, keep the rest of the plan fixed.

Freed tasks may move among a chosen set of agents whose capacity and max_tasks are
reduced by the fixed tasks they keep; group constraints with fixed members become
eligibility restrictions, so any feasible sub-plan is feasible for the whole request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from models import CompiledProblem

__all__ = ["SubProblem", "cut_subproblem"]


@dataclass
class SubProblem:
    """A CompiledProblem over `tasks` x `agents` (global indices) and how to map back."""

    problem: CompiledProblem
    tasks: np.ndarray
    agents: np.ndarray
    hint: np.ndarray | None = None  # the incumbent's freed tasks, local (see restrict)

    def restrict(self, assignment: np.ndarray) -> np.ndarray:
        """The global plan's freed tasks as local agent indices (-1 off the agent set)."""
        lookup = np.full(int(assignment.max(initial=0)) + 2, -1, dtype=np.int32)
        valid = self.agents[self.agents < len(lookup) - 1]
        lookup[valid] = np.flatnonzero(self.agents < len(lookup) - 1)
        return lookup[assignment[self.tasks]]  # index -1 maps to the last slot, i.e. -1

    def merge(self, assignment: np.ndarray, local: np.ndarray) -> np.ndarray:
        out = assignment.copy()
        out[self.tasks] = np.where(local >= 0, self.agents[np.maximum(local, 0)], -1)
        return out


def cut_subproblem(
    problem: CompiledProblem, assignment: np.ndarray, free: np.ndarray, agents: np.ndarray
) -> SubProblem:
    """Free tasks `free` (global indices) to move among `agents`; all else stays put."""
    free = np.unique(free).astype(np.int64)
    agents = np.unique(agents).astype(np.int64)
    on = assignment.astype(np.int64)
    kept = np.ones(problem.n_tasks, dtype=bool)
    kept[free] = False
    kept &= on >= 0  # tasks that stay where they are
    used, count = _kept_loads(problem, on, kept)
    capacity = np.maximum(problem.capacity[agents].astype(np.float64) - used[agents], 0.0)
    eligible = _group_eligibility(problem, on, kept, free, agents)
    fits_alone = np.all(problem.usage[np.ix_(agents, free)] <= capacity[:, None, :] + 1e-9, axis=2)
    sub = replace(
        problem,
        name=f"{problem.name}[lns]",
        agent_ids=[problem.agent_ids[i] for i in agents],
        task_ids=[problem.task_ids[j] for j in free],
        cost=problem.cost[np.ix_(agents, free)],
        usage=problem.usage[np.ix_(agents, free)],
        capacity=capacity.astype(np.float32),
        eligible=eligible & fits_alone,
        duration=problem.duration[np.ix_(agents, free)],
        max_tasks=np.maximum(problem.max_tasks[agents] - count[agents], 0).astype(np.int32),
        task_weight=problem.task_weight[free],
        priority_rank=problem.priority_rank[free],
        deadline=problem.deadline[free],
        current=_local_current(problem, free, agents),
        anti_affinity=_local_groups(problem.anti_affinity, free),
        co_location=_local_groups(problem.co_location, free),
        comm_pairs=np.zeros((0, 2), dtype=np.int32),
        comm_volume=np.zeros(0),
        latency=None,
        notes=[],
    )
    return SubProblem(sub, free, agents)


def _kept_loads(
    problem: CompiledProblem, on: np.ndarray, kept: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """float[m, d] usage and int[m] task counts of the tasks that stay put."""
    m = problem.n_agents
    agents, tasks = on[kept], np.flatnonzero(kept)
    used = np.zeros((m, problem.n_dims))
    for k in range(problem.n_dims):
        used[:, k] = np.bincount(agents, weights=problem.usage[agents, tasks, k], minlength=m)
    return used, np.bincount(agents, minlength=m)


def _group_eligibility(
    problem: CompiledProblem,
    on: np.ndarray,
    kept: np.ndarray,
    free: np.ndarray,
    agents: np.ndarray,
) -> np.ndarray:
    """bool[agents, free]: eligibility with the groups' fixed members turned into rules
    (not beside a kept anti-affinity partner; onto a kept co-location partner's agent)."""
    eligible = problem.eligible[np.ix_(agents, free)].copy()
    for group in problem.anti_affinity:
        hosts = _kept_hosts(group, on, kept)
        if len(hosts):
            eligible[np.ix_(np.isin(agents, hosts), np.isin(free, group))] = False
    for group in problem.co_location:
        hosts = _kept_hosts(group, on, kept)
        if len(hosts) and np.isin(group, free).any():
            eligible[:, np.isin(free, group)] &= np.isin(agents, hosts)[:, None]
    return eligible


def _kept_hosts(group: np.ndarray, on: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Agents holding the group's members that stay put."""
    return np.unique(on[group[kept[group]]])


def _local_groups(groups: list[np.ndarray], free: np.ndarray) -> list[np.ndarray]:
    """Each group's freed members as local indices, for groups with two or more freed."""
    return [
        np.flatnonzero(np.isin(free, group)).astype(np.int32)
        for group in groups
        if np.isin(group, free).sum() > 1
    ]


def _local_current(problem: CompiledProblem, free: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Each freed task's current agent as a local index (-1: none, or not in `agents`)."""
    position = {int(a): k for k, a in enumerate(agents)}
    return np.array([position.get(int(problem.current[j]), -1) for j in free], dtype=np.int32)
