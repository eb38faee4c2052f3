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
    m, n_units, d = units.usage.shape
    usage = units.usage.astype(np.float64)
    cap = units.capacity
    base = np.where(units.eligible, model.linear.astype(np.float64), np.inf)
    prices = np.zeros((m, d))
    best_prices = prices.copy()
    best_bound = -np.inf
    step_scale = 2.0
    stale = 0
    cols = np.arange(n_units)
    for _ in range(iterations):
        if time.perf_counter() > deadline:
            break
        reduced = base + np.einsum("ijk,ik->ij", usage, prices)
        choice = np.argmin(reduced, axis=0)
        picked = reduced[choice, cols]
        if not np.all(np.isfinite(picked)):
            break  # some unit has no eligible agent: nothing to price
        bound = float(picked.sum() - (prices * cap).sum())
        if not np.isfinite(best_bound) or bound > best_bound + 1e-9 * max(1.0, abs(best_bound)):
            best_bound, best_prices, stale = bound, prices.copy(), 0
        else:
            stale += 1
            if stale >= 5:
                step_scale, stale = step_scale / 2, 0
        used = np.zeros((m, d))
        for k in range(d):
            used[:, k] = np.bincount(choice, weights=usage[choice, cols, k], minlength=m)
        gradient = used - cap
        # Complementary slackness: a zero price on a slack agent cannot go lower.
        gradient[(prices <= 0) & (gradient < 0)] = 0.0
        norm = float((gradient**2).sum())
        if norm <= 0:
            break  # the relaxed choice is feasible: the prices are optimal
        # Polyak-style step towards a target a little above the best bound.
        target = abs(best_bound) * 0.02 + 1e-9
        prices = np.maximum(0.0, prices + step_scale * target / norm * gradient)
        if step_scale < 1e-4:
            break
    return best_prices, best_bound
