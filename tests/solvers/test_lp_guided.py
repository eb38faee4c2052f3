"""Smoothed-dual bound and the lp_guided solver: the bound is never above the optimum or
the LP, the plan is feasible, and the portfolio reports how the bound was obtained."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from models import Objectives, RunOptions, compile_problem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from models.generators.instances import generate_attribute_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.bounds.lagrangian import pair_costs
from solvers.bounds.solver import lp_relaxation
from solvers.heuristic.lp_guided import LpGuidedSolver
from solvers.milp.solver import MilpSolver
from solvers.portfolio import solver_choice
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import run_portfolio
from solvers.portfolio.strategy import PER_CORE
from solvers.shared.smoothed_dual import smoothed_dual


def _dual(compiled, evaluations: int):
    cost, left_out = pair_costs(compiled)
    return smoothed_dual(
        cost, compiled.usage, compiled.capacity, np.inf, left_out=left_out, evaluations=evaluations
    )


def _brute_force_best(compiled, choices: range) -> float:
    best = np.inf
    for combo in itertools.product(choices, repeat=compiled.n_tasks):
        ev = evaluate_plan(compiled, np.array(combo))
        if ev.feasible:
            best = min(best, ev.score)
    return best


@pytest.mark.parametrize("seed", range(3))
def test_bound_never_exceeds_the_brute_force_optimum(seed: int) -> None:
    """A classic GAP: usage differs per agent (the general gradient path)."""
    compiled = compile_gap(generate_gap("D", 3, 8, seed=seed))
    best = _brute_force_best(compiled, range(3))
    assert np.isfinite(best)  # a feasible plan exists, so the claim has teeth
    assert _dual(compiled, 60).bound <= best + 1e-9


def test_bound_with_tasks_left_out_never_exceeds_the_optimum() -> None:
    """Leaving a task out is one more choice per task in the dual (its penalty)."""
    problem = generate_attribute_problem(7, 2, seed=4, allow_unassigned=True)
    problem.objectives = Objectives(weights={"cost": 1.0, "unassigned": 1.0})
    compiled = compile_problem(problem)
    best = _brute_force_best(compiled, range(-1, 2))
    result = LpGuidedSolver().solve(compiled, SolveOptions(time_limit_s=1.0))
    assert result.bound is not None
    assert result.bound <= best + 1e-9


@pytest.mark.parametrize("seed", range(2))
def test_bound_is_below_the_milp_optimum(seed: int) -> None:
    compiled = compile_problem(generate_attribute_problem(60, 5, seed=seed))
    exact = MilpSolver().solve(compiled, SolveOptions(time_limit_s=30.0))
    if exact.status != SolveStatus.OPTIMAL:
        pytest.skip("HiGHS did not prove this instance optimal in 30 s")
    assert exact.objective is not None
    assert _dual(compiled, 80).bound <= exact.objective + 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_bound_is_below_the_lp_and_near_it(seed: int) -> None:
    """Its limit is the LP bound: never above it, and close after a fixed count of steps."""
    compiled = compile_problem(generate_attribute_problem(500, 20, seed=seed))
    lp, _ = lp_relaxation(compiled, 30.0)
    assert lp is not None
    bound = _dual(compiled, 150).bound
    assert bound <= lp + 1e-6 * abs(lp)
    assert bound >= lp * (1 - 0.01)


@pytest.mark.parametrize("seed", range(2))
def test_the_plan_is_feasible_and_above_its_bound(seed: int) -> None:
    compiled = compile_problem(generate_attribute_problem(500, 20, seed=seed))
    result = LpGuidedSolver().solve(compiled, SolveOptions(time_limit_s=2.0, seed=seed))
    assert result.status == SolveStatus.FEASIBLE
    assert result.assignment is not None and result.bound is not None
    evaluation = evaluate_plan(compiled, result.assignment)
    assert evaluation.feasible
    assert result.bound <= evaluation.score
    assert result.bound_method is not None and "smoothed dual" in result.bound_method


def test_a_nonlinear_score_is_refused_with_a_reason() -> None:
    problem = generate_attribute_problem(50, 5, seed=0)
    problem.objectives = Objectives(weights={"cost": 1.0, "makespan": 1.0})
    compiled = compile_problem(problem)
    assert LpGuidedSolver().skip_reason(compiled, SolveOptions()) is not None
    result = LpGuidedSolver().solve(compiled, SolveOptions(time_limit_s=1.0))
    assert result.assignment is None and result.bound is None


def test_chosen_above_the_lns_size_and_skipped_above_its_own(monkeypatch) -> None:
    compiled = compile_problem(generate_attribute_problem(200, 10, seed=0))
    small = replace(PER_CORE, lns_max_pairs=10, cpsat_max_pairs=10, milp_max_pairs=10)
    monkeypatch.setattr(solver_choice, "PER_CORE", small)
    choice = solver_choice.choose_solvers(compiled, None, ["greedy", "lp_guided"], cores=1)
    assert "lp_guided" in choice.run
    monkeypatch.setattr(solver_choice, "PER_CORE", replace(small, lp_guided_max_pairs=100))
    choice = solver_choice.choose_solvers(compiled, None, ["greedy", "lp_guided"], cores=1)
    assert "lp_guided" not in choice.run
    assert "agent-task pairs" in choice.skipped["lp_guided"]


def test_the_report_names_the_smoothed_dual_as_the_bound_method() -> None:
    problem = generate_attribute_problem(1200, 20, seed=2)  # above the inline size
    report = run_portfolio(
        problem,
        RunOptions(time_limit_s=3.0, solvers=["greedy", "lp_guided"]),
        breaker=SolverBreaker(),
    )
    assert report.chosen is not None and report.best_bound is not None
    assert report.best_bound_by == "lp_guided"
    assert report.best_bound <= report.chosen.objective
    assert report.best_bound_method is not None
    assert "smoothed dual" in report.best_bound_method


def test_a_deterministic_run_repeats_its_plan_and_bound() -> None:
    compiled = compile_problem(generate_attribute_problem(500, 20, seed=5))
    options = SolveOptions(time_limit_s=20.0, work_limit_s=1.0, deterministic=True)
    first = LpGuidedSolver().solve(compiled, options)
    second = LpGuidedSolver().solve(compiled, options)
    assert first.assignment is not None and second.assignment is not None
    assert np.array_equal(first.assignment, second.assignment)
    assert first.bound == second.bound


def test_a_sampled_warm_start_keeps_the_bound_below_the_lp() -> None:
    """Enough tasks per agent for the warm stages to run on a quarter of the tasks: their
    values bound nothing, so the bound must still come from passes over every pair."""
    compiled = compile_problem(generate_attribute_problem(2000, 20, seed=6))
    lp, _ = lp_relaxation(compiled, 60.0)
    assert lp is not None
    result = _dual(compiled, 120)
    assert result.sampled and result.evaluations >= 1
    assert "quarter of the tasks" in result.method
    assert result.bound <= lp + 1e-6 * abs(lp)
    assert result.bound >= lp * (1 - 0.01)


@pytest.mark.parametrize(
    ("extra", "weights"),
    [
        ({"n_anti_affinity": 20, "n_co_location": 20}, {"cost": 1.0}),
        ({"allow_unassigned": True, "with_current": True}, {"cost": 1.0, "migrations": 2.0}),
    ],
)
def test_groups_and_optional_tasks_keep_the_plan_feasible_and_the_bound_valid(
    extra: dict, weights: dict
) -> None:
    problem = generate_attribute_problem(500, 20, seed=7, **extra)
    problem.objectives = Objectives(weights=weights)
    compiled = compile_problem(problem)
    result = LpGuidedSolver().solve(compiled, SolveOptions(time_limit_s=2.0))
    assert result.assignment is not None and result.bound is not None
    evaluation = evaluate_plan(compiled, result.assignment)
    assert evaluation.feasible
    assert result.bound <= evaluation.score
    lp, _ = lp_relaxation(compiled, 30.0)
    assert lp is not None and result.bound <= lp + 1e-6 * abs(lp)
