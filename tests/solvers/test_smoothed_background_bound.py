"""The background bound from the smoothed dual: valid (an exact L(mu), never above the
LP relaxation), on the weighted score, and its method names the smoothed dual."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from models import Objectives, compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.bounds.lagrangian import pair_costs
from solvers.bounds.smoothed_bound import _weighted_cost, smoothed_lagrangian_dual
from solvers.bounds.solver import lp_relaxation
from solvers.portfolio import background_bound
from solvers.portfolio.background_bound import BackgroundBound
from solvers.shared.smoothed_dual import smoothed_dual


def _exact_dual(compiled, mu: np.ndarray) -> float:
    """L(mu) = sum_j min_i (c_ij + mu_i . a_ij) - mu . capacity, whole arrays in float64."""
    cost, _ = pair_costs(compiled)
    usage = np.asarray(compiled.usage, dtype=np.float64)
    reduced = cost.astype(np.float64) + np.einsum("ik,ijk->ij", mu, usage)
    return float(reduced.min(axis=0).sum() - (mu * compiled.capacity).sum())


def _run(compiled, budget_s: float) -> BackgroundBound:
    bound = BackgroundBound(compiled, budget_s, lambda _value: None)
    bound._thread.start()
    bound.join(time.perf_counter() + 60.0)
    return bound


@pytest.mark.parametrize("seed", [1, 2])
def test_the_smoothed_background_bound_never_exceeds_the_lp(monkeypatch, seed) -> None:
    """The LP relaxation is at most the optimum, and any L(mu) is at most the LP."""
    monkeypatch.setattr(background_bound, "SMOOTHED_FROM_PAIRS", 0)
    problem = generate_attribute_problem(400, 12, seed=seed)
    problem.objectives = Objectives(weights={"cost": 3.0})
    compiled = compile_problem(problem)
    lp, _ = lp_relaxation(compiled, 60.0)
    assert lp is not None
    bound = _run(compiled, 1.0)
    assert bound.value is not None
    assert bound.value <= lp + 1e-6 * abs(lp)
    assert bound.value >= 0.9 * lp  # weighted once, and near the LP after a second
    assert bound.method is not None
    assert "entropy-smoothed dual" in bound.method
    assert "subgradient" not in bound.method


def test_the_method_follows_the_size(monkeypatch) -> None:
    compiled = compile_problem(generate_attribute_problem(300, 10, seed=5))
    monkeypatch.setattr(background_bound, "SMOOTHED_FROM_PAIRS", 300 * 10 + 1)
    below = _run(compiled, 0.5)
    monkeypatch.setattr(background_bound, "SMOOTHED_FROM_PAIRS", 300 * 10)
    at = _run(compiled, 0.5)
    assert below.method is not None and "subgradient" in below.method
    assert at.method is not None and "entropy-smoothed dual" in at.method


def test_the_bound_is_an_exact_evaluation_at_its_multipliers() -> None:
    compiled = compile_problem(generate_attribute_problem(500, 15, seed=6))
    dual = smoothed_lagrangian_dual(compiled, time.perf_counter() + 1.0)
    assert np.all(dual.multipliers >= 0)
    exact = _exact_dual(compiled, dual.multipliers)
    assert dual.bound <= exact  # a safety margin below, for float32 sums
    assert dual.bound >= exact - 1e-5 * abs(exact)
    assert f"best of {dual.iterations} exact evaluations" in dual.method


def test_the_blockwise_cost_matrix_is_pair_costs() -> None:
    problem = generate_attribute_problem(200, 130, seed=7)  # more agents than one block
    problem.objectives = Objectives(weights={"cost": 2.5})
    compiled = compile_problem(problem)
    assert not compiled.eligible.all()  # the inf entries are exercised
    cost, scale = _weighted_cost(compiled)
    expected, _ = pair_costs(compiled)
    np.testing.assert_array_equal(cost, expected)
    finite = expected[np.isfinite(expected)]
    assert scale == pytest.approx(float(np.abs(finite.astype(np.float64)).mean()), rel=1e-9)


def test_a_broadcast_usage_gives_the_same_dual_as_its_copy() -> None:
    """smoothed_dual keeps a broadcast usage a view (also in its sample): same numbers."""
    compiled = compile_problem(generate_attribute_problem(2000, 20, seed=8))
    assert compiled.usage.strides[0] == 0
    cost, _ = pair_costs(compiled)
    capacity = compiled.capacity.astype(np.float64)
    view = smoothed_dual(cost, compiled.usage, capacity, np.inf, evaluations=40)
    copy = smoothed_dual(cost, np.array(compiled.usage), capacity, np.inf, evaluations=40)
    assert view.sampled and copy.sampled
    assert view.bound == copy.bound
    np.testing.assert_array_equal(view.multipliers, copy.multipliers)


_NO_IMPORT_IN_THREAD = """
import sys, time
from models import compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.portfolio import background_bound
background_bound.SMOOTHED_FROM_PAIRS = 0
compiled = compile_problem(generate_attribute_problem(200, 10, seed=2))
bound = background_bound.BackgroundBound(compiled, 0.5, lambda _value: None)
before = set(sys.modules)  # construction, in this thread, preloads what the climb needs
bound._thread.start()
bound.join(time.perf_counter() + 30.0)
assert bound.value is not None and "smoothed" in bound.method
print(sorted(set(sys.modules) - before))
"""


def test_the_smoothed_bound_thread_imports_nothing() -> None:
    """As for the subgradient (test_background_bound): a fork while the thread holds an
    import lock would leave the child waiting for good."""
    done = subprocess.run(
        [sys.executable, "-c", _NO_IMPORT_IN_THREAD], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_a_deterministic_run_counts_evaluations_not_seconds(monkeypatch) -> None:
    """With `deterministic` the smoothed dual stops on its evaluation count: two runs,
    the same bound, well inside a budget the clock would otherwise fill."""
    monkeypatch.setattr(background_bound, "SMOOTHED_FROM_PAIRS", 0)
    compiled = compile_problem(generate_attribute_problem(600, 15, seed=9))
    budget = 20.0
    # 12 evaluations in the budget: the count ends the climb long before the clock.
    monkeypatch.setattr(background_bound, "_DETERMINISTIC_PAIR_RATE", 12 * 600 * 15 / budget)
    values = []
    for _ in range(2):
        bound = BackgroundBound(compiled, budget, lambda _value: None, deterministic=True)
        started = time.perf_counter()
        bound._thread.start()
        bound.join(started + 60.0)
        assert time.perf_counter() - started < budget / 2
        assert bound.value is not None
        values.append(bound.value)
    assert values[0] == values[1]
