"""The greedy's clock stops its search, never the first plan of a small request."""

from __future__ import annotations

from models import compile_problem, evaluate_plan
from models.generators.instances import generate_attribute_problem
from solvers.base import SolveOptions, SolveStatus, StopReason
from solvers.heuristic.solver import GreedySolver


def test_a_small_request_out_of_time_still_gets_a_feasible_plan() -> None:
    # With no time at all, seed 5's construction used to stop with a task left out.
    for seed in range(16):
        compiled = compile_problem(generate_attribute_problem(20, 5, seed=seed))
        result = GreedySolver().solve(compiled, SolveOptions(time_limit_s=0.0, seed=seed))
        assert result.status == SolveStatus.FEASIBLE, (seed, result.notes)
        assert result.stop_reason == StopReason.TIME_LIMIT
        assert result.assignment is not None
        evaluation = evaluate_plan(compiled, result.assignment)
        assert evaluation.feasible and evaluation.score == result.objective
