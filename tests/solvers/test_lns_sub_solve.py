"""The LNS's exact sub-solve: CP-SAT with its small-model settings still proves optima,
and the settings reach CP-SAT."""

from __future__ import annotations

import numpy as np
import pytest

from models import evaluate_plan
from solvers.base import SolveOptions, TraceRecorder
from solvers.cpsat.model import formulate
from solvers.cpsat.run import run_model, scale_objective
from solvers.lns.sub_solve import SUB_SOLVE_PARAMETERS, solve_exactly
from tests.solvers.tiny_instances import brute_force_optimum, compiled, tiny_gap


@pytest.mark.parametrize("seed", range(4))
def test_sub_solve_proves_the_enumerated_optimum(seed: int) -> None:
    problem = compiled(tiny_gap(seed, m=3, n=7))
    out, took = solve_exactly(problem, {"cost": 1.0}, 5.0, seed, 1, None)
    assert out.status_name == "OPTIMAL" and out.assignment is not None
    assert evaluate_plan(problem, out.assignment).score == pytest.approx(
        brute_force_optimum(problem)
    )
    assert 0.0 <= took <= 5.0 + 1.0


def test_an_infeasible_hint_still_gives_a_feasible_plan() -> None:
    problem = compiled(tiny_gap(7, m=3, n=7))
    hint = np.zeros(problem.n_tasks, dtype=np.int32)  # all on one agent: over capacity
    out, _ = solve_exactly(problem, {"cost": 1.0}, 5.0, 0, 1, hint)
    assert out.assignment is not None and evaluate_plan(problem, out.assignment).feasible


def test_parameters_are_set_over_run_models_own() -> None:
    problem = compiled(tiny_gap(1, m=3, n=7))
    model = formulate(problem, ("cost",))
    objective = scale_objective(model, {"cost": 1.0})
    options = SolveOptions(time_limit_s=5.0)
    args = (model, objective, problem, options, 5.0, TraceRecorder())
    # run_model sets max_time_in_seconds from its limit; a zero given here wins.
    stopped = run_model(*args, parameters={"max_time_in_seconds": 0.0})
    assert stopped.status_name == "UNKNOWN" and stopped.assignment is None
    assert run_model(*args, parameters=SUB_SOLVE_PARAMETERS).status_name == "OPTIMAL"
