"""The LNS's own greedy starting plan, reached through the registry (another engine).

Alone, the LNS gives the greedy up to a second. In a portfolio (a peer-plan channel)
the greedy runs beside it with its own budget and passes its plan on, so a short
construction is enough to start cutting: on the small classic GAPs the greedy's plan
at 0.1 s was within 0.1% of its plan at 1 s (e10100 11,656 vs 11,648; d20100 6,297 vs
6,284; d10200 the same), and that second is ~10% of a 10 s LNS. When the short run
finds no feasible plan (d801600 at 0.1 s), the greedy gets the rest of the usual budget.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions
from solvers.registry import get_solver

__all__ = ["PEER_GREEDY_S", "greedy_plan", "greedy_start"]

#: Seconds for the LNS's own greedy when a portfolio's greedy runs beside it.
PEER_GREEDY_S = 0.1


def greedy_start(
    problem: CompiledProblem,
    options: SolveOptions,
    left_s: float,
    accept: Callable[[np.ndarray], bool],
) -> None:
    """Hand the greedy's plan to `accept` (which keeps it if feasible): a short run
    first when peers will pass the portfolio's greedy plan on, the rest if that failed."""
    budget = min(0.1 * left_s, 1.0)  # alone: up to a second, 10% of what is left
    first = min(budget, PEER_GREEDY_S) if options.peer_plans is not None else budget
    plan = greedy_plan(problem, options, first)
    if plan is not None and accept(plan):
        return
    if budget - first > 0.05:
        plan = greedy_plan(problem, options, budget - first)
        if plan is not None:
            accept(plan)


def greedy_plan(
    problem: CompiledProblem, options: SolveOptions, limit_s: float
) -> np.ndarray | None:
    """The greedy heuristic's plan within `limit_s`, on one core."""
    result = get_solver("greedy").solve(
        problem, SolveOptions(time_limit_s=max(0.05, limit_s), seed=options.seed, workers=1)
    )
    return result.assignment
