"""The background Lagrangian bound is on the weighted score: never above the LP bound."""

from __future__ import annotations

import time

from models import Objectives, compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.bounds.solver import lp_relaxation
from solvers.portfolio.background_bound import BackgroundBound


def test_a_cost_weight_is_applied_once() -> None:
    problem = generate_attribute_problem(300, 10, seed=1)
    problem.objectives = Objectives(weights={"cost": 2.0})
    compiled = compile_problem(problem)
    lp, _ = lp_relaxation(compiled, 30.0)  # on the weighted score, as the bound must be
    assert lp is not None
    bound = BackgroundBound(compiled, 1.0, lambda _value: None)
    bound._thread.start()
    bound.join(time.perf_counter() + 30.0)
    assert bound.value is not None
    assert bound.value <= lp + 1e-6 * abs(lp)
    assert bound.value >= 0.9 * lp  # and it is on the same scale, not halved
