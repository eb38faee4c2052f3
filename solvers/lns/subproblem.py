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
    fixed = np.ones(problem.n_tasks, dtype=bool)
    fixed[free] = False
    on = assignment.astype(np.int64)
    kept = fixed & (on >= 0)
    m = problem.n_agents
    used = np.zeros((m, problem.n_dims))
    for k in range(problem.n_dims):
        used[:, k] = np.bincount(
            on[kept], weights=problem.usage[on[kept], np.flatnonzero(kept), k], minlength=m
        )
    count = np.bincount(on[kept], minlength=m)
    capacity = np.maximum(problem.capacity[agents].astype(np.float64) - used[agents], 0.0)
    eligible = problem.eligible[np.ix_(agents, free)].copy()
    for group in problem.anti_affinity:
        _forbid_fixed_hosts(eligible, group, free, agents, on, kept)
    co_groups = []
    for group in problem.co_location:
        hosts = np.unique(on[group[kept[group]]])
        inside = np.isin(group, free)
        if len(hosts) and inside.any():
            # A fixed member pins the freed members to its agent.
            rows = np.isin(agents, hosts)
            eligible[:, np.isin(free, group)] &= rows[:, None]
        if inside.sum() > 1:
            co_groups.append(np.flatnonzero(np.isin(free, group)).astype(np.int32))
    aa_groups = [
        np.flatnonzero(np.isin(free, g)).astype(np.int32)
        for g in problem.anti_affinity
        if np.isin(g, free).sum() > 1
    ]
    local_current = np.full(len(free), -1, dtype=np.int32)
    agent_pos = {int(a): k for k, a in enumerate(agents)}
    for pos, j in enumerate(free):
        local_current[pos] = agent_pos.get(int(problem.current[j]), -1)
    sub = replace(
        problem,
        name=f"{problem.name}[lns]",
        agent_ids=[problem.agent_ids[i] for i in agents],
        task_ids=[problem.task_ids[j] for j in free],
        cost=problem.cost[np.ix_(agents, free)],
        usage=problem.usage[np.ix_(agents, free)],
        capacity=capacity.astype(np.float32),
        eligible=eligible
        & np.all(problem.usage[np.ix_(agents, free)] <= capacity[:, None, :] + 1e-9, axis=2),
        duration=problem.duration[np.ix_(agents, free)],
        max_tasks=np.maximum(problem.max_tasks[agents] - count[agents], 0).astype(np.int32),
        task_weight=problem.task_weight[free],
        priority_rank=problem.priority_rank[free],
        deadline=problem.deadline[free],
        current=local_current,
        anti_affinity=aa_groups,
        co_location=co_groups,
        comm_pairs=np.zeros((0, 2), dtype=np.int32),
        comm_volume=np.zeros(0),
        latency=None,
        notes=[],
    )
    return SubProblem(sub, free, agents)


def _forbid_fixed_hosts(eligible, group, free, agents, on, kept) -> None:
    hosts = np.unique(on[group[kept[group]]])
    if not len(hosts):
        return
    rows = np.isin(agents, hosts)
    cols = np.isin(free, group)
    eligible[np.ix_(rows, cols)] = False
