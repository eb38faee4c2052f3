"""Lagrangian bound: valid on tiny instances, close to the LP bound, and fast at scale."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models import evaluate_plan
from models.generators.gap import compile_gap, generate_gap
from solvers.bounds.lagrangian import lagrangian_bound, lagrangian_dual
from solvers.bounds.solver import lp_relaxation


@pytest.mark.parametrize("kind", ["C", "D", "E"])
def test_bound_never_exceeds_brute_force_optimum(kind: str) -> None:
    compiled = compile_gap(generate_gap(kind, 3, 7, seed=5))
    best = np.inf
    for combo in itertools.product(range(3), repeat=7):
        ev = evaluate_plan(compiled, np.array(combo))
        if ev.feasible:
            best = min(best, ev.score)
    assert lagrangian_bound(compiled, 1.0) <= best + 1e-9


@pytest.mark.parametrize("kind", ["C", "D", "E"])
def test_converges_towards_the_lp_bound(kind: str) -> None:
    compiled = compile_gap(generate_gap(kind, 10, 200, seed=7))
    lp, _ = lp_relaxation(compiled, 10.0)
    result = lagrangian_dual(compiled, 1.0)
    assert lp is not None
    assert result.bound <= lp + 1e-6 * abs(lp) + 1e-6  # the LP bound is its limit
    assert result.bound >= lp * (1 - 0.005)
    reduced = result.reduced_costs(compiled)
    assert reduced.shape == (10, 200)


def test_large_instance_stays_within_its_time_limit() -> None:
    compiled = compile_gap(generate_gap("D", 200, 5000, seed=1))
    trivial = float(compiled.cost.min(axis=0).astype(np.float64).sum())
    result = lagrangian_dual(compiled, time_limit_s=1.0)
    assert result.bound >= trivial  # beats "every task on its cheapest agent"
    assert result.iterations >= 5
