"""An exact sub-solve of the LNS by the knapsack Lagrangian branch and bound
(`solvers.bounds.knapsack_search`) instead of CP-SAT, on the sub-problems it serves.

On tight classic GAPs the knapsack relaxation's bound is far stronger than the LP that
CP-SAT searches with, so a neighbourhood of 6-8 agents proves in a fraction of CP-SAT's
time: replayed on neighbourhoods of one LNS plan each (`python -m bench.lns_sub_solves
--replay`, 2 s limit, one core; session 19), d20200 with 6 agents took a median 0.10 s
(all six proven, one improved) where CP-SAT took 1.02 s (two of six not proven); 8
agents on d40400 0.14 s against 0.55 s.
The search looks only for plans strictly cheaper than the hint (the incumbent's part), so
a proof that finds none proves the hint optimal for the neighbourhood.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem, evaluate_plan
from solvers.bounds.knapsack_bound import knapsack_dual
from solvers.bounds.knapsack_search import search_levels
from solvers.bounds.lagrangian import integral_scores
from solvers.cpsat.run import RunOutcome

__all__ = ["knapsack_sub_solve", "serves"]


def serves(problem: CompiledProblem) -> bool:
    """The relaxation is the whole sub-model: a classic GAP (`is_pure_gap`, one resource,
    integer costs). Elsewhere the search would still be exact (every plan is checked
    against the whole model) but its bound ignores rules, so CP-SAT, which sees them
    all, solves those sub-models."""
    return problem.is_pure_gap() and problem.n_dims == 1 and integral_scores(problem)


def knapsack_sub_solve(
    problem: CompiledProblem,
    limit_s: float,
    hint: np.ndarray | None,
    start: np.ndarray | None = None,
) -> tuple[RunOutcome, float] | None:
    """The best plan of `problem` found within `limit_s` and whether it is proven optimal,
    in CP-SAT's terms (OPTIMAL, FEASIBLE, UNKNOWN), and the seconds taken; None when the
    relaxation does not serve `problem` (`serves`; or no capacity binds, or its units
    would be too coarse), so that CP-SAT solves it instead. `start`: the climb's first
    multipliers (float[n], e.g. the whole problem's for these tasks); the climb ends
    once its bound proves the hint optimal."""
    if not serves(problem):
        return None  # (checked before the climb, which would be wasted)
    began = time.perf_counter()
    deadline = began + limit_s
    best: list[tuple[float, np.ndarray | None]] = [(np.inf, None)]
    if hint is not None and (hint >= 0).all():
        ev = evaluate_plan(problem, hint)
        if ev.feasible:
            best[0] = (ev.score, hint.astype(np.int32))
    # Integer scores: a bound above the hint's score minus one leaves no better plan.
    enough = best[0][0] - 1 + 1e-6
    dual = knapsack_dual(problem, deadline, start=start, penalties=True, enough=enough)
    if dual is None or dual.penalties is None:
        return None

    def offer(plan: np.ndarray) -> float | None:
        ev = evaluate_plan(problem, plan)
        if not ev.feasible:
            return None
        if ev.score < best[0][0]:
            best[0] = (ev.score, plan.astype(np.int32))
        return ev.score

    outcome = search_levels(
        problem,
        dual,
        lambda: best[0][0],
        offer,
        lambda _: None,
        lambda: time.perf_counter() > deadline,
        deadline,
    )
    if outcome is None:
        return None
    plan = best[0][1]
    if plan is None:
        status = cp_model.UNKNOWN
    else:
        status = cp_model.OPTIMAL if outcome.proven else cp_model.FEASIBLE
    bound = best[0][0] if outcome.proven else outcome.bound
    return RunOutcome(status, plan, None, bound), time.perf_counter() - began
