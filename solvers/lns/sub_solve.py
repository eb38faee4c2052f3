"""One exact sub-solve of the LNS: CP-SAT on a sub-problem cut from the incumbent, with
settings for small models."""

from __future__ import annotations

import time

import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions, TraceRecorder
from solvers.cpsat.model import formulate
from solvers.cpsat.run import RunOutcome, run_model, scale_objective

__all__ = ["SUB_SOLVE_PARAMETERS", "solve_exactly"]

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
