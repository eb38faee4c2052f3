"""The LNS's starting plans: a vertex LP to round, and a descent from every start
before the starts are compared (the cheapest start is not always the best basin)."""

from __future__ import annotations

import numpy as np

from models import compile_problem, evaluate_plan, gap_to_problem
from models.generators.gap import generate_gap
from solvers.bounds.lagrangian import pair_costs
from solvers.bounds.solver import lp_relaxation
from solvers.lns.polish import Polisher


def test_a_vertex_lp_splits_at_most_one_task_per_capacity_row() -> None:
    # 24 x 1,000 = 24,000 columns: above the size where the LP runs interior point.
    problem = compile_problem(gap_to_problem(generate_gap("D", 24, 1000, seed=3)))
    value, x = lp_relaxation(problem, 30.0, 1, vertex=True)
    interior_value, _ = lp_relaxation(problem, 30.0, 1)
    assert x is not None and value is not None and interior_value is not None
    split = int(((x > 1e-6).sum(axis=0) > 1).sum())
    assert split <= problem.n_agents  # a basic solution: at most one per capacity row
    assert abs(value - interior_value) <= 1e-5 * abs(value)  # the same bound


def test_a_start_descends_whatever_came_before_and_never_gets_worse() -> None:
    problem = compile_problem(gap_to_problem(generate_gap("E", 10, 200, seed=4)))
    cost = pair_costs(problem)[0]
    polisher = Polisher(problem, cost, 10.0, np.random.default_rng(0))
    polisher.last_score = -np.inf  # polish() would refuse: nothing beats this
    rng = np.random.default_rng(1)
    for _ in range(3):
        plan = _feasible_random_plan(problem, rng)
        before = evaluate_plan(problem, plan).score
        after = polisher.descend_start(plan, 10.0)
        ev = evaluate_plan(problem, after)
        assert ev.feasible and ev.score <= before
    assert polisher.moves > 0 and polisher.seconds > 0


def _feasible_random_plan(problem, rng: np.random.Generator) -> np.ndarray:
    """Tasks in random order, each on a random agent with room (retried until all fit)."""
    while True:
        load = np.zeros(problem.n_agents)
        plan = np.full(problem.n_tasks, -1, dtype=np.int32)
        for j in rng.permutation(problem.n_tasks):
            room = np.flatnonzero(load + problem.usage[:, j, 0] <= problem.capacity[:, 0])
            if not len(room):
                break
            plan[j] = int(rng.choice(room))
            load[plan[j]] += problem.usage[plan[j], j, 0]
        else:
            return plan
