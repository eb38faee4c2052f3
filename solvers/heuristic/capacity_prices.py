"""Capacity prices by Lagrangian subgradient: what a unit of each agent's room is worth.

Relaxing the capacity constraints prices them; each unit then picks the agent with
the least `score + price . usage`. Regret insertion on those priced scores packs
tight instances (GAP types D and E) far better than raw cost, where the cheapest
agent is often the one a task fills most. Cost: O(iterations * m * U * d).
"""

from __future__ import annotations

import time

import numpy as np

from solvers.heuristic.scoring import ScoreModel
from solvers.heuristic.task_units import TaskUnits
from solvers.shared.subgradient import HalvingScale, Relaxation, subgradient_ascent

__all__ = ["capacity_prices"]


def capacity_prices(
    units: TaskUnits,
    model: ScoreModel,
    *,
    iterations: int = 150,
    deadline: float = np.inf,
) -> tuple[np.ndarray, float]:
    """Prices float64[m, d] >= 0 and the best Lagrangian bound on the linear score.

    The bound is valid only for the linear part of the objective (it ignores load
    terms), so callers use it to steer, not to report.
    """
    m, _, d = units.usage.shape
    if time.perf_counter() > deadline:
        return np.zeros((m, d)), -np.inf
    ascent = subgradient_ascent(
        _relaxation(units, model), (m, d), HalvingScale(), iterations=iterations, deadline=deadline
    )
    return ascent.multipliers, ascent.bound


def _relaxation(units: TaskUnits, model: ScoreModel) -> Relaxation:
    """prices -> (bound, used minus capacity): each unit takes its least priced score;
    None when some unit has no eligible agent (nothing to price)."""
    usage = units.usage.astype(np.float64)
    cap = units.capacity
    base = np.where(units.eligible, model.linear.astype(np.float64), np.inf)
    m, n_units, d = usage.shape
    cols = np.arange(n_units)

    def relaxed(prices: np.ndarray) -> tuple[float, np.ndarray] | None:
        reduced = base + np.einsum("ijk,ik->ij", usage, prices)
        choice = np.argmin(reduced, axis=0)
        picked = reduced[choice, cols]
        if not np.all(np.isfinite(picked)):
            return None
        used = np.zeros((m, d))
        for k in range(d):
            used[:, k] = np.bincount(choice, weights=usage[choice, cols, k], minlength=m)
        return float(picked.sum() - (prices * cap).sum()), used - cap

    return relaxed
