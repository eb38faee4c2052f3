"""Cheap repair of a rounded LP / Lagrangian plan: shift tasks off overloaded agents.

Each move takes the task whose reduced cost rises least per unit of capacity freed
to the cheapest agent (by reduced cost) that still has room in every dimension.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem

__all__ = ["shift_repair"]


def shift_repair(
    problem: CompiledProblem, plan: np.ndarray, reduced: np.ndarray | None
) -> np.ndarray:
    """Move tasks until no agent is over capacity or no move helps. Cost: O(moves * m)."""
    plan = plan.copy()
    price = (reduced if reduced is not None else problem.cost).astype(np.float64)
    price = np.where(problem.eligible, price, np.inf)
    cap = problem.capacity.astype(np.float64)
    m, n, d = problem.usage.shape
    load = np.zeros((m, d))
    placed = np.flatnonzero(plan >= 0)
    for k in range(d):
        load[:, k] = np.bincount(
            plan[placed], weights=problem.usage[plan[placed], placed, k], minlength=m
        )
    count = np.bincount(plan[placed], minlength=m)
    stuck = np.zeros(m, dtype=bool)  # overloaded agents no single move can relieve
    for _ in range(4 * n):
        over = np.flatnonzero(
            (((load > cap + 1e-9).any(axis=1)) | (count > problem.max_tasks)) & ~stuck
        )
        if not len(over):
            break
        i = int(over[0])
        tasks = np.flatnonzero(plan == i)
        if not len(tasks):
            stuck[i] = True
            continue
        use = problem.usage[:, tasks, :].astype(np.float64)  # [m, t, d]
        fits = np.all(load[:, None, :] + use <= cap[:, None, :] + 1e-9, axis=2)
        fits &= (count < problem.max_tasks)[:, None]
        fits[i] = False
        options = np.where(fits, price[:, tasks], np.inf)
        target = options.argmin(axis=0)
        rise = options[target, np.arange(len(tasks))] - price[i, tasks]
        if not np.isfinite(rise).any():
            stuck[i] = True  # left to the CP-SAT repair
            continue
        freed = np.maximum(use[i].max(axis=1), 1e-9)
        pick = int(np.argmin(np.where(np.isfinite(rise), rise / freed, np.inf)))
        j, dest = int(tasks[pick]), int(target[pick])
        load[i] -= use[i, pick]
        load[dest] += use[dest, pick]
        count[i] -= 1
        count[dest] += 1
        plan[j] = dest
    return plan
