"""NSGA-II: population evaluation matches evaluate_plan; fronts are verified and non-dominated."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Objectives, compile_problem, evaluate_plan
from models.generators.instances import generate_attribute_problem
from models.schema import OBJECTIVE_NAMES
from solvers.base import SolveOptions, SolveStatus
from solvers.nsga2.operators import GeneOperators
from solvers.nsga2.population_eval import PopulationEvaluator
from solvers.nsga2.solver import Nsga2Solver, nsga2_objectives
from solvers.shared.pareto import non_dominated

PARETO = Objectives(mode="pareto", pareto=["cost", "imbalance"])


def _options(seed: int = 0, generations: int = 15) -> SolveOptions:
    return SolveOptions(time_limit_s=20, seed=seed, generations=generations, population=24)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_tasks=st.integers(4, 40),
    n_agents=st.integers(2, 6),
    extras=st.booleans(),
)
def test_population_evaluation_equals_evaluate_plan(
    seed: int, n_tasks: int, n_agents: int, extras: bool
) -> None:
    problem = generate_attribute_problem(
        n_tasks,
        n_agents,
        seed,
        n_dims=2,
        with_current=extras,
        allow_unassigned=extras,
        n_anti_affinity=1 if extras and n_tasks >= 12 else 0,
        n_co_location=1 if extras and n_tasks >= 12 else 0,
    )
    compiled = compile_problem(problem)
    rng = np.random.default_rng(seed)
    low = -1 if extras else 0
    pop = rng.integers(low, compiled.n_agents, size=(12, compiled.n_tasks))
    values, violation = PopulationEvaluator(compiled, OBJECTIVE_NAMES).evaluate(pop)
    for row, plan in enumerate(pop):
        ev = evaluate_plan(compiled, plan)
        expected = [ev.objectives[name] for name in OBJECTIVE_NAMES]
        np.testing.assert_allclose(values[row], expected, rtol=1e-9, atol=1e-9)
        assert (violation[row] > 0) == (not ev.feasible)


def test_repair_makes_random_plans_feasible_on_a_loose_problem() -> None:
    compiled = compile_problem(generate_attribute_problem(80, 8, seed=1, slack=(1.5, 1.6)))
    ops = GeneOperators(compiled, np.random.default_rng(0))
    pop = ops.repair(ops.random_population(30))
    _, violation = PopulationEvaluator(compiled, ("cost",)).evaluate(pop)
    assert (violation == 0).mean() > 0.9


def test_front_is_verified_and_mutually_non_dominated() -> None:
    compiled = compile_problem(generate_attribute_problem(60, 6, seed=3, objectives=PARETO))
    result = Nsga2Solver().solve(compiled, _options())
    assert result.status == SolveStatus.FEASIBLE and len(result.front) >= 2
    values = np.array(
        [
            [evaluate_plan(compiled, plan).objectives[n] for n in ("cost", "imbalance")]
            for plan in result.front
        ]
    )
    assert all(evaluate_plan(compiled, plan).feasible for plan in result.front)
    assert len(non_dominated(values)) == len(values)
    assert result.hypervolume is not None and 0.0 < result.hypervolume <= 1.0


def test_weighted_single_objective_adds_imbalance_and_returns_best_weighted() -> None:
    compiled = compile_problem(generate_attribute_problem(40, 5, seed=4))
    assert nsga2_objectives(compiled) == ("cost", "imbalance")
    result = Nsga2Solver().solve(compiled, _options())
    assert result.assignment is not None
    chosen = evaluate_plan(compiled, result.assignment)
    assert chosen.feasible
    assert chosen.score <= min(evaluate_plan(compiled, p).score for p in result.front) + 1e-9


def test_lexicographic_uses_the_order() -> None:
    objectives = Objectives(mode="lexicographic", order=["makespan", "cost"])
    compiled = compile_problem(generate_attribute_problem(40, 5, seed=5, objectives=objectives))
    assert nsga2_objectives(compiled) == ("makespan", "cost")
    result = Nsga2Solver().solve(compiled, _options())
    assert result.assignment is not None
    best = min(evaluate_plan(compiled, p).lex_key(("makespan", "cost")) for p in result.front)
    assert evaluate_plan(compiled, result.assignment).lex_key(("makespan", "cost")) == best


def test_hints_seed_the_population() -> None:
    compiled = compile_problem(generate_attribute_problem(40, 5, seed=6, objectives=PARETO))
    hint = Nsga2Solver().solve(compiled, _options(generations=5)).front[0]
    result = Nsga2Solver().solve(
        compiled, SolveOptions(time_limit_s=20, generations=0, population=24, hints=[hint])
    )
    assert result.status == SolveStatus.FEASIBLE


def test_deterministic_for_a_seed() -> None:
    compiled = compile_problem(generate_attribute_problem(40, 5, seed=7, objectives=PARETO))
    a = Nsga2Solver().solve(compiled, _options(seed=11))
    b = Nsga2Solver().solve(compiled, _options(seed=11))
    assert np.array_equal(np.asarray(a.assignment), np.asarray(b.assignment))
    assert len(a.front) == len(b.front)
    assert all(np.array_equal(x, y) for x, y in zip(a.front, b.front, strict=True))
