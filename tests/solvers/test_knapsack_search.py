"""Knapsack branch and bound: finds and proves the optimum (checked against enumeration
and HiGHS), proves an incumbent it is given, never states a bound above the optimum,
stops when told, and declines what it cannot cut exactly."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np
import pytest

from models import CompiledProblem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions, SolveStatus
from solvers.bounds.knapsack_bound import KnapsackDual, knapsack_dual
from solvers.bounds.knapsack_search import (
    SearchOutcome,
    level_budget,
    search_levels,
)
from solvers.bounds.lagrangian import integral_scores
from solvers.registry import get_solver


def _dual(compiled: CompiledProblem) -> KnapsackDual:
    dual = knapsack_dual(compiled, time.perf_counter() + 3.0, penalties=True)
    assert dual is not None and dual.penalties is not None
    return dual


class _Run:
    """The callbacks of one search: plans offered (checked as the LNS checks them), an
    incumbent, the bounds heard, a stop after `max_s`."""

    def __init__(self, compiled: CompiledProblem, incumbent: float = np.inf, max_s: float = 60):
        self.compiled, self.best, self.max_s = compiled, incumbent, max_s
        self.plans: list[tuple[float, np.ndarray]] = []
        self.bounds: list[float] = []

    def offer(self, plan: np.ndarray) -> float | None:
        ev = evaluate_plan(self.compiled, plan)
        if not ev.feasible:
            return None
        self.plans.append((ev.score, plan))
        self.best = min(self.best, ev.score)
        return ev.score

    def search(self) -> SearchOutcome | None:
        dual = _dual(self.compiled)
        self.began = time.perf_counter()
        return search_levels(
            self.compiled,
            dual,
            lambda: self.best,
            self.offer,
            lambda outcome: self.bounds.append(outcome.bound),
            lambda: time.perf_counter() > self.began + self.max_s,
        )


@pytest.mark.parametrize(("kind", "seed"), [("C", 1), ("D", 2), ("E", 3), ("D", 4)])
def test_finds_and_proves_the_enumerated_optimum(kind: str, seed: int) -> None:
    compiled = compile_gap(generate_gap(kind, 3, 8, seed=seed))
    optimum = min(
        ev.score
        for combo in itertools.product(range(3), repeat=8)
        if (ev := evaluate_plan(compiled, np.array(combo))).feasible
    )
    run = _Run(compiled)
    outcome = run.search()
    assert outcome is not None and outcome.proven
    assert outcome.bound == optimum and run.best == optimum
    assert all(b <= optimum for b in run.bounds) and run.bounds == sorted(run.bounds)
    assert "knapsack branch and bound" in outcome.method()


@pytest.mark.parametrize(("kind", "seed"), [("E", 3), ("C", 4), ("D", 5)])
def test_agrees_with_highs_on_the_optimum(kind: str, seed: int) -> None:
    compiled = compile_gap(generate_gap(kind, 5, 40, seed=seed))
    highs = get_solver("milp").solve(compiled, SolveOptions(time_limit_s=60, workers=1))
    assert highs.status == SolveStatus.OPTIMAL and highs.objective is not None
    run = _Run(compiled)
    outcome = run.search()
    assert outcome is not None and outcome.proven
    assert outcome.bound == pytest.approx(highs.objective)
    assert run.best == pytest.approx(highs.objective)


def test_an_optimal_incumbent_is_proven_without_a_plan_of_its_own() -> None:
    compiled = compile_gap(generate_gap("E", 5, 40, seed=3))
    optimum = get_solver("milp").solve(compiled, SolveOptions(time_limit_s=60, workers=1))
    assert optimum.objective is not None
    run = _Run(compiled, incumbent=optimum.objective)
    outcome = run.search()
    assert outcome is not None and outcome.proven
    assert outcome.bound == optimum.objective
    assert run.plans == []  # nothing below the incumbent exists, so nothing was offered


def test_a_stopped_search_states_only_what_it_proved() -> None:
    # D 20 x 200 is far from done in half a second: no proof, a bound below the optimum.
    compiled = compile_gap(generate_gap("D", 20, 200, seed=3))
    run = _Run(compiled, max_s=0.5)
    outcome = run.search()
    assert time.perf_counter() - run.began < 1.5
    assert outcome is not None and not outcome.proven
    plan = get_solver("lns").solve(compiled, SolveOptions(time_limit_s=3, workers=1))
    assert plan.objective is not None and outcome.bound <= plan.objective


def test_declines_non_integer_scores() -> None:
    compiled = compile_gap(generate_gap("C", 3, 8, seed=1))
    fractional = replace(compiled, cost=compiled.cost + 0.5)
    assert integral_scores(compiled) and not integral_scores(fractional)
    run = _Run(fractional)
    assert run.search() is None


def test_levels_not_expected_to_end_in_time_are_not_started() -> None:
    assert level_budget([], 10) == pytest.approx(3.0)  # first: 30 % of the 10 s left
    assert level_budget([0.1], 10) == pytest.approx(3.2)  # 4 x 0.1 expected, 8 times that
    assert level_budget([0.01], 10) == pytest.approx(1.6)  # 0.2 s expected at least
    assert level_budget([0.2, 0.6], 20) == pytest.approx(14.4)  # 3 x 0.6 expected
    assert level_budget([0.2, 0.6], 4) == pytest.approx(4.0)  # ... but only 4 s left
    assert level_budget([0.001, 0.5], 100) == pytest.approx(40.0)  # growth 10 at most
    assert level_budget([1.0, 3.0], 5) is None  # 9 s expected, 5 s left


def test_a_search_that_cannot_end_by_its_deadline_gives_up_and_says_why() -> None:
    compiled = compile_gap(generate_gap("D", 20, 200, seed=3))
    dual = _dual(compiled)
    began = time.perf_counter()
    outcome = search_levels(
        compiled, dual, lambda: np.inf, lambda plan: None, lambda o: None, lambda: False, began + 1
    )
    assert time.perf_counter() - began < 1.5
    assert outcome is not None and not outcome.proven and outcome.gave_up is not None
