"""One exact sub-solve of the LNS: the knapsack branch and bound where its relaxation is
the whole sub-model (`knapsack_sub_solve.py`), else CP-SAT on the sub-problem cut from
the incumbent, with settings for small models."""

from __future__ import annotations

import time

import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions, TraceRecorder
from solvers.cpsat.model import formulate
from solvers.cpsat.run import RunOutcome, run_model, scale_objective
from solvers.lns.knapsack_sub_solve import knapsack_sub_solve

__all__ = ["KNAPSACK_SUB_SOLVES", "SUB_SOLVE_PARAMETERS", "solve_exactly", "solve_neighbourhood"]

#: Sub-solves by the knapsack branch and bound where it serves (`knapsack_sub_solve.py`).
#: LNS alone, 10 s, seeds 0-1 (session 19, `python -m bench.lns_sub_solves`): d20100 /
#: d20200 / d40400 0.404 / 0.429 / 0.515 % with CP-SAT for all, 0.315 / 0.380 / 0.450 %
#: with it; mean over ten more (d10100, d10200, d60900, e10200, e20200, e40400, e60900,
#: c20200, c40400, c60900) 0.107 -> 0.082 %, none worse.
KNAPSACK_SUB_SOLVES = True

#: CP-SAT settings of a sub-solve. Presolve off (a sub-model of 50-130 tasks gains little
#: from it and pays its fixed cost every step) and the LP relaxation at full strength
#: (`linearization_level` 2). Measured on 222 sub-problems the LNS cut on c60900,
#: e801600, d60900 and d20100 (10 s runs, replayed one at a time with their hints and
#: time limits, `/tmp/h14/variants.py`): 165 proven optimal against 151 with CP-SAT's
#: defaults, in 23.0 s against 28.1 s; the plans of those not proven were better on 12,
#: worse on 5. An objective cutoff at the hint's score (search only for better) was
#: slower on all four (median 160-210 ms against 75-110 ms).
SUB_SOLVE_PARAMETERS: dict[str, object] = {"cp_model_presolve": False, "linearization_level": 2}


def solve_exactly(
    problem: CompiledProblem,
    weights: dict[str, float],
    limit_s: float,
    seed: int,
    workers: int,
    hint: np.ndarray | None,
) -> tuple[RunOutcome, float]:
    """CP-SAT on `problem` (a sub-problem) for the weighted score; the outcome and the
    seconds the search took (building the model excluded)."""
    model = formulate(problem, tuple(weights))
    objective = scale_objective(model, weights)
    options = SolveOptions(time_limit_s=limit_s, seed=seed, workers=workers)
    began = time.perf_counter()
    recorder = TraceRecorder()
    out = run_model(
        model, objective, problem, options, limit_s, recorder, hint, parameters=SUB_SOLVE_PARAMETERS
    )
    return out, time.perf_counter() - began


def solve_neighbourhood(
    problem: CompiledProblem,
    weights: dict[str, float],
    limit_s: float,
    seed: int,
    workers: int,
    hint: np.ndarray | None,
    start: np.ndarray | None = None,
) -> tuple[RunOutcome, float, bool]:
    """(outcome, seconds, whether the knapsack branch and bound solved it): by that search
    where it serves `problem` (with `start`, its climb's first multipliers) and
    KNAPSACK_SUB_SOLVES is on, else by CP-SAT (`solve_exactly`)."""
    if KNAPSACK_SUB_SOLVES:
        done = knapsack_sub_solve(problem, limit_s, hint, start)
        if done is not None:
            return done[0], done[1], True
    out, took = solve_exactly(problem, weights, limit_s, seed, workers, hint)
    return out, took, False
