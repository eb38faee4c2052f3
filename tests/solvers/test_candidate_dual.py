"""Candidate-list Lagrangian dual: always a valid bound, close to the LP bound."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from models import compile_problem, evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from models.generators.instances import generate_attribute_problem
from solvers.bounds.lagrangian import pair_costs
from solvers.bounds.solver import lp_relaxation
from solvers.shared.candidate_dual import DualProblem, candidate_dual, exact_pass


def _dual_problem(compiled) -> DualProblem:
    cost, left_out = pair_costs(compiled)
    return DualProblem(cost, compiled.usage, compiled.capacity.astype(np.float64), left_out)


@pytest.mark.parametrize("seed", range(3))
def test_bound_never_exceeds_the_brute_force_optimum(seed: int) -> None:
    """Lists shorter than the agents (2 of 3) exercise the exact passes' role."""
    compiled = compile_gap(generate_gap("D", 3, 8, seed=seed))
    best = np.inf
    for combo in itertools.product(range(3), repeat=8):
        ev = evaluate_plan(compiled, np.array(combo))
        if ev.feasible:
            best = min(best, ev.score)
    assert np.isfinite(best)  # a feasible plan exists, so the claim has teeth
    result = candidate_dual(_dual_problem(compiled), time.perf_counter() + 0.5, candidates=2)
    assert result.bound <= best + 1e-9
    assert result.full_passes >= 1


@pytest.mark.parametrize("seed", range(3))
def test_attribute_form_bound_is_below_the_lp_and_near_it(seed: int) -> None:
    """The capacity-relaxed dual's limit is the LP bound: never above it, and close."""
    compiled = compile_problem(generate_attribute_problem(300, 20, seed=seed))
    lp, _ = lp_relaxation(compiled, 20.0)
    assert lp is not None
    # A step count, not the clock, ends it: the claim holds whatever the machine's load.
    deadline = time.perf_counter() + 60.0
    result = candidate_dual(_dual_problem(compiled), deadline, candidates=4, max_iterations=1500)
    assert result.bound <= lp + 1e-6 * abs(lp)
    assert result.bound >= lp * (1 - 0.02)


def test_exact_pass_matches_a_dense_evaluation() -> None:
    compiled = compile_problem(generate_attribute_problem(200, 15, seed=3))
    problem = _dual_problem(compiled)
    mu = np.random.default_rng(0).uniform(0, 0.5, size=(15, compiled.n_dims))
    value, agents = exact_pass(problem, mu, 3)
    dense = problem.cost.astype(np.float64) + np.einsum("ijk,ik->ij", compiled.usage, mu)
    expected = dense.min(axis=0).sum() - (mu * compiled.capacity).sum()
    assert value <= expected + 1e-9  # moved down by the float32 margin only
    assert value >= expected - 1e-4 * abs(expected)
    tasks = np.arange(compiled.n_tasks)
    # The lists hold each task's minimum (up to float32 rounding).
    assert np.all(dense[agents, tasks].min(axis=0) <= dense.min(axis=0) + 1e-4)


def test_the_deadline_holds() -> None:
    compiled = compile_problem(generate_attribute_problem(3000, 200, seed=1))
    start = time.perf_counter()
    result = candidate_dual(_dual_problem(compiled), start + 0.5)
    assert time.perf_counter() - start < 1.5
    assert result.iterations >= 1
    assert "candidate lists" in result.method


def test_masked_form_equals_the_dense_form() -> None:
    """Cost weighted and masked block by block gives the same L(mu) as a dense matrix."""
    compiled = compile_problem(generate_attribute_problem(400, 12, seed=4))
    dense = _dual_problem(compiled)
    masked = DualProblem(
        compiled.cost,
        compiled.usage,
        compiled.capacity.astype(np.float64),
        eligible=compiled.eligible,
        scale=compiled.objectives.weight("cost"),
    )
    assert not compiled.eligible.all()  # capabilities make some pairs ineligible
    mu = np.random.default_rng(1).uniform(0, 0.3, size=(12, compiled.n_dims))
    assert exact_pass(masked, mu, 3)[0] == pytest.approx(exact_pass(dense, mu, 3)[0], rel=1e-9)
