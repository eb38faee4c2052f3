"""NSGA-II's batched capacity repair: loads kept right in place, plans made feasible,
the same seed giving the same population."""

from __future__ import annotations

import numpy as np

from models import CompiledProblem, compile_problem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from models.generators.instances import generate_attribute_problem
from solvers.nsga2.repair import CapacityRepair


def recount(problem: CompiledProblem, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loads plan by plan, agent by agent: the slow reference."""
    cap = problem.capacity.astype(np.float64)
    safe = np.where(cap > 0, cap, 1.0)
    usage = np.zeros((len(pop), problem.n_agents, problem.n_dims))
    counts = np.zeros((len(pop), problem.n_agents), dtype=np.int64)
    for row, plan in enumerate(pop):
        for task, agent in enumerate(plan):
            if agent >= 0:
                usage[row, agent] += problem.usage[agent, task] / safe[agent]
                counts[row, agent] += 1
    return usage, counts


def random_population(problem: CompiledProblem, rng: np.random.Generator) -> np.ndarray:
    # Each task on a random eligible agent, so only capacity is broken.
    weights = problem.eligible / problem.eligible.sum(axis=0)
    plans = [
        [rng.choice(problem.n_agents, p=weights[:, j]) for j in range(problem.n_tasks)]
        for _ in range(12)
    ]
    return np.array(plans, dtype=np.int64)


def test_loads_match_a_plan_by_plan_recount() -> None:
    problem = compile_problem(generate_attribute_problem(60, 8, seed=1, allow_unassigned=True))
    rng = np.random.default_rng(0)
    pop = rng.integers(-1, problem.n_agents, size=(10, problem.n_tasks))
    usage, counts = CapacityRepair(problem, rng).loads(pop)
    expected_usage, expected_counts = recount(problem, pop)
    np.testing.assert_allclose(usage, expected_usage)
    np.testing.assert_array_equal(counts, expected_counts)


def test_repair_cuts_the_excess_and_moves_keep_loads_right() -> None:
    problem = compile_gap(generate_gap("E", 8, 80, seed=4))
    rng = np.random.default_rng(3)
    repair = CapacityRepair(problem, rng)
    pop = random_population(problem, rng)
    excess_before = np.maximum(repair.loads(pop)[0] - repair.limit, 0).sum()
    repair(pop)
    usage, counts = repair.loads(pop)
    assert np.maximum(usage - repair.limit, 0).sum() < 0.05 * excess_before
    assert any(evaluate_plan(problem, plan).feasible for plan in pop)
    rows, tasks = np.nonzero(rng.random(pop.shape) < 0.2)
    proposal = rng.integers(0, problem.n_agents, size=len(rows))
    repair.move(pop, usage, counts, rows, tasks, proposal)
    expected_usage, expected_counts = recount(problem, pop)
    np.testing.assert_allclose(usage, expected_usage, atol=1e-9)
    np.testing.assert_array_equal(counts, expected_counts)


def test_same_seed_same_population() -> None:
    problem = compile_gap(generate_gap("D", 6, 50, seed=2))
    results = []
    for _ in range(2):
        rng = np.random.default_rng(9)
        pop = random_population(problem, rng)
        results.append(CapacityRepair(problem, rng)(pop))
    np.testing.assert_array_equal(results[0], results[1])
