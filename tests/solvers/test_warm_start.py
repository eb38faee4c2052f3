"""A warm start (a retried job's earlier best plan): handed to the solvers as a hint, and
the plan chosen is never worse than it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from models import Plan, RunOptions, compile_problem, evaluate_plan, gap_to_problem
from models.generators.gap import generate_gap
from models.plan import plan_from_array
from solvers import registry
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import run_portfolio
from solvers.portfolio.warm_start import WARM_START_NAME


@pytest.fixture
def hint_echo() -> Iterator[None]:
    registry._REGISTRY["hint_echo"] = ("tests.solvers.hint_echo_solver", "HintEchoSolver")
    yield
    registry._REGISTRY.pop("hint_echo")


def _problem_and_better_plan() -> tuple[object, Plan, float, float]:
    """A GAP instance where the greedy is not optimal, and a plan better than the greedy's."""
    for seed in range(20):
        problem = gap_to_problem(generate_gap("c", 5, 30, seed=seed))
        greedy = run_portfolio(problem, RunOptions(solvers=["greedy"], time_limit_s=2, workers=1))
        exact = run_portfolio(problem, RunOptions(solvers=["milp"], time_limit_s=10, workers=1))
        assert greedy.chosen is not None and exact.chosen is not None
        if exact.chosen.objective < greedy.chosen.objective - 1e-6:
            return problem, exact.chosen.plan, exact.chosen.objective, greedy.chosen.objective
    pytest.skip("no instance where the greedy is beaten")


def test_a_better_warm_start_is_kept_over_a_weaker_solver() -> None:
    problem, plan, warm_objective, greedy_objective = _problem_and_better_plan()
    report = run_portfolio(
        problem,  # type: ignore[arg-type]
        RunOptions(solvers=["greedy"], time_limit_s=2, workers=1),
        breaker=SolverBreaker(),
        warm_start=plan,
    )
    assert report.chosen is not None
    assert report.chosen.objective <= warm_objective + 1e-9 * abs(warm_objective)
    assert report.chosen.objective < greedy_objective
    assert report.chosen.solver == WARM_START_NAME
    runs = {r.name: r for r in report.solvers}
    assert runs[WARM_START_NAME].verified and runs[WARM_START_NAME].objective == pytest.approx(
        warm_objective
    )


def test_the_solvers_get_the_warm_start_as_a_hint(hint_echo: None) -> None:
    problem = gap_to_problem(generate_gap("c", 4, 12, seed=1))
    greedy = run_portfolio(problem, RunOptions(solvers=["greedy"], time_limit_s=1, workers=1))
    assert greedy.chosen is not None
    report = run_portfolio(
        problem,
        RunOptions(solvers=["hint_echo", "milp"], time_limit_s=2, workers=1),
        breaker=SolverBreaker(),
        warm_start=greedy.chosen.plan,
    )
    echo = next(r for r in report.solvers if r.name == "hint_echo")
    assert echo.verified and echo.objective == pytest.approx(greedy.chosen.objective)
    without = run_portfolio(
        problem, RunOptions(solvers=["hint_echo", "milp"], time_limit_s=2, workers=1)
    )
    assert next(r for r in without.solvers if r.name == "hint_echo").objective is None
    assert WARM_START_NAME not in {r.name for r in without.solvers}


def test_a_warm_start_that_no_longer_fits_is_ignored() -> None:
    problem = gap_to_problem(generate_gap("c", 3, 8, seed=2))
    compiled = compile_problem(problem)
    stale = Plan(assignments={"no-such-task": compiled.agent_ids[0]})
    over = plan_from_array(compiled, np.zeros(compiled.n_tasks, dtype=np.int64))
    assert not evaluate_plan(compiled, np.zeros(compiled.n_tasks, dtype=np.int64)).feasible
    for plan in (stale, over):
        report = run_portfolio(
            problem,
            RunOptions(solvers=["greedy"], time_limit_s=1, workers=1),
            breaker=SolverBreaker(),
            warm_start=plan,
        )
        assert report.chosen is not None and report.chosen.solver == "greedy"
        assert WARM_START_NAME not in {r.name for r in report.solvers}
