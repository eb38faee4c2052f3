"""Which objectives the workflow NSGA-II trades off, and their values for one schedule.

The objectives are the request's own: the Pareto list, the lexicographic order, or
the weighted ones, padded with makespan and then cost to at least two (issue 15 asks
for the makespan-cost front). Values follow `models.evaluation.evaluate_plan` on the
decoded schedule exactly (the tests hold them to it); the assignment-only objectives
this module does not compute itself (consolidation, communication) come from
`evaluate_plan`, which is slower but exact.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.workflow.heft import Schedule

__all__ = ["ScheduleScorer", "workflow_objectives"]

_PADDING = ("makespan", "cost")
_DIRECT = frozenset(
    {
        "makespan",
        "cost",
        "weighted_completion",
        "tardiness",
        "imbalance",
        "migrations",
        "unassigned",
    }
)


def workflow_objectives(problem: CompiledProblem) -> tuple[str, ...]:
    """The request's objectives, padded with makespan and cost to at least two."""
    spec = problem.objectives
    names = list(spec.order if spec.mode in ("pareto", "lexicographic") else spec.active)
    for extra in _PADDING:
        if len(names) >= 2:
            break
        if extra not in names:
            names.append(extra)
    return tuple(names)


class ScheduleScorer:
    """Objective vectors of decoded schedules (every task placed)."""

    def __init__(self, problem: CompiledProblem, names: tuple[str, ...]):
        self.problem, self.names = problem, names
        self.cols = np.arange(problem.n_tasks)
        self.cost = problem.cost.astype(np.float64)
        self.duration = problem.duration.astype(np.float64)
        self.weight = problem.task_weight.astype(np.float64)
        self.deadline = problem.deadline.astype(np.float64)
        self.slow = not set(names) <= _DIRECT

    def values(self, schedule: Schedule) -> np.ndarray:
        """float64[len(names)] for `schedule`, as `evaluate_plan` scores it."""
        p = self.problem
        agent = np.asarray(schedule.agent, dtype=np.int64)
        finish = np.asarray(schedule.finish, dtype=np.float64)
        slow = evaluate_plan(p, agent, np.asarray(schedule.start)).objectives if self.slow else {}
        out = np.empty(len(self.names))
        for k, name in enumerate(self.names):
            if name == "makespan":
                out[k] = schedule.makespan
            elif name == "cost":
                out[k] = self.cost[agent, self.cols].sum()
            elif name == "weighted_completion":
                out[k] = (self.weight * finish).sum() / self.weight.sum() if len(finish) else 0.0
            elif name == "tardiness":
                out[k] = (self.weight * np.maximum(0.0, finish - self.deadline)).sum()
            elif name == "imbalance":
                load = np.bincount(agent, self.duration[agent, self.cols], p.n_agents)
                out[k] = load.max() - load.mean()
            elif name == "migrations":
                out[k] = ((p.current >= 0) & (agent != p.current)).sum()
            elif name == "unassigned":
                out[k] = 0.0  # a decoded schedule places every task
            else:
                out[k] = slow[name]
        return out
