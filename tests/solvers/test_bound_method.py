"""The report says how a Lagrangian bound was obtained, and the bound is below the plan."""

from __future__ import annotations

import pytest

from models import RunOptions
from models.generators.instances import generate_attribute_problem
from solvers.portfolio import background_bound
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import run_portfolio


@pytest.mark.parametrize(
    ("smoothed_from_pairs", "method_says"),
    [
        (background_bound.SMOOTHED_FROM_PAIRS, "Lagrangian dual of the capacity rows"),
        (0, "L-BFGS on the entropy-smoothed dual"),  # the large requests' method
    ],
)
def test_a_lagrangian_bound_comes_with_its_method(
    monkeypatch, smoothed_from_pairs: int, method_says: str
) -> None:
    monkeypatch.setattr(background_bound, "SMOOTHED_FROM_PAIRS", smoothed_from_pairs)
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
    assert method_says in report.best_bound_method
    assert " s)" in report.best_bound_method  # its time is stated
