"""The LNS's bounds before its search: a checked known bound, the LP relaxation and the
capacity-row Lagrangian dual, each kept when it is the best so far, with how it was
obtained; and the rounding up of a bound when every plan's score is an integer.

(The knapsack bound, which can beat the LP, climbs beside the search instead:
`knapsack_beside.py`.)
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass

import highspy
import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions
from solvers.bounds.lagrangian import integral_scores, lagrangian_dual
from solvers.bounds.solver import LP_MAX_PAIRS, lp_relaxation
from solvers.shared.proof import checked_known_bound

__all__ = ["StartBounds", "integral_target", "start_bounds"]


@dataclass
class StartBounds:
    """The best bound and its method; the LP point and the Lagrangian reduced costs."""

    bound: float
    method: str | None
    x_frac: np.ndarray | None
    reduced: np.ndarray


def start_bounds(problem: CompiledProblem, options: SolveOptions) -> StartBounds:
    """Best of known, LP and Lagrangian bounds; the LP point and reduced costs."""
    budget = options.time_limit_s
    known = checked_known_bound(problem, options.known_bound, options.hints)
    bound = known if known is not None else -np.inf
    method = "known bound (checked)" if known is not None else None
    x_frac = None
    if int(problem.eligible.sum()) <= LP_MAX_PAIRS:
        if mp.parent_process() is not None:
            # A forked solver process inherits HiGHS's global thread scheduler from
            # its parent; asking for another thread count then fails ("Not Set").
            # Alone in this process, a reset is safe.
            highspy.Highs.resetGlobalScheduler(True)
        lp_value, x_frac = lp_relaxation(problem, 0.3 * budget, options.workers, vertex=True)
        if lp_value is not None and lp_value > bound:
            bound, method = lp_value, "LP relaxation (HiGHS)"
    dual = lagrangian_dual(problem, min(0.1 * budget, 2.0), 500)
    if dual.bound > bound:
        bound, method = dual.bound, dual.method
    return StartBounds(bound, method, x_frac, dual.reduced_costs(problem))


def integral_target(problem: CompiledProblem, bound: float) -> float:
    """Round the bound up when every plan's score is an integer (GAP costs)."""
    if np.isfinite(bound) and integral_scores(problem):
        return float(np.ceil(bound - 1e-6))
    return bound
