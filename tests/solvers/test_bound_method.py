"""The report says how a Lagrangian bound was obtained, and the bound is below the plan."""

from __future__ import annotations

from models import RunOptions
from models.generators.instances import generate_attribute_problem
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import run_portfolio


def test_a_lagrangian_bound_comes_with_its_method() -> None:
    problem = generate_attribute_problem(1200, 20, seed=2)  # above the inline size
    report = run_portfolio(
        problem, RunOptions(time_limit_s=2.0, solvers=["greedy"]), breaker=SolverBreaker()
    )
    assert report.chosen is not None
    assert report.best_bound_by == "lagrangian"
    assert report.best_bound is not None
    assert report.best_bound <= report.chosen.objective
    assert report.best_bound_method is not None
    assert "Lagrangian dual of the capacity rows" in report.best_bound_method
    assert " s)" in report.best_bound_method  # its time is stated
