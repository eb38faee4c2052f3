"""Which agents may take a task given what they already hold: eligibility, capacity,
max_tasks, anti-affinity and co-location, exactly as `evaluate_plan` checks them.

The scheduler asks before every placement and move, so a schedule it returns never
breaks an allocation constraint.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem

__all__ = ["PlacementRules"]

_SLACK = 1e-6  # the evaluator's capacity tolerance


class PlacementRules:
    """Tracks per-agent usage and counts for one assignment under construction."""

    def __init__(self, problem: CompiledProblem, assignment: np.ndarray | None = None):
        self.problem = problem
        m, n = problem.n_agents, problem.n_tasks
        self.usage = np.zeros((m, problem.n_dims))
        self.limit = problem.capacity.astype(np.float64) * (1 + _SLACK) + _SLACK
        self.counts = np.zeros(m, dtype=np.int64)
        self.assignment = np.full(n, -1, dtype=np.int64)
        self._uses_capacity = bool(np.any(problem.usage > 0))
        self.eligible = [np.flatnonzero(problem.eligible[:, j]).tolist() for j in range(n)]
        self.apart: list[list[np.ndarray]] = [[] for _ in range(n)]
        for group in problem.anti_affinity:
            for j in group.tolist():
                self.apart[j].append(group)
        self.together: list[np.ndarray | None] = [None] * n
        for group in problem.co_location:
            for j in group.tolist():
                self.together[j] = group
        if assignment is not None:
            for j, i in enumerate(np.asarray(assignment).tolist()):
                if i >= 0:
                    self.add(j, i)

    def fits(self, j: int, i: int) -> bool:
        """Whether agent i can take task j now (j not currently counted on i)."""
        p = self.problem
        if not p.eligible[i, j] or self.counts[i] + 1 > p.max_tasks[i]:
            return False
        if np.any(self.usage[i] + p.usage[i, j] > self.limit[i]):
            return False
        for group in self.apart[j]:
            others = group[group != j]
            if np.any(self.assignment[others] == i):
                return False
        together = self.together[j]
        if together is not None:
            placed = self.assignment[together[together != j]]
            placed = placed[placed >= 0]
            if len(placed) and np.any(placed != i):
                return False
        return True

    def allowed(self, j: int) -> list[int]:
        """Agents that can take task j now (j not currently placed)."""
        p = self.problem
        ok = p.eligible[:, j] & (self.counts + 1 <= p.max_tasks)
        if self._uses_capacity:
            ok &= np.all(self.usage + p.usage[:, j, :] <= self.limit, axis=1)
        agents = np.flatnonzero(ok).tolist()
        if self.apart[j] or self.together[j] is not None:
            agents = [i for i in agents if self.fits(j, i)]
        return agents

    def add(self, j: int, i: int) -> None:
        self.assignment[j] = i
        self.usage[i] += self.problem.usage[i, j]
        self.counts[i] += 1

    def remove(self, j: int) -> None:
        i = int(self.assignment[j])
        self.assignment[j] = -1
        self.usage[i] -= self.problem.usage[i, j]
        self.counts[i] -= 1

    def movable(self, j: int) -> bool:
        """Co-located tasks move only as a group, which the moves here do not do."""
        return self.together[j] is None
