"""Every registered solver on the same tiny instances: a verified plan or a correct verdict."""

from __future__ import annotations

import pytest

from models import compile_problem, evaluate_plan
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import SOLVER_NAMES, get_solver, registered_solvers
from tests.solvers.tiny_instances import (
    brute_force_optimum,
    tiny_attributes,
    tiny_gap,
    tiny_infeasible,
)

AVAILABLE = registered_solvers()
INSTANCES = [tiny_gap(1), tiny_gap(2), tiny_attributes()]


def test_every_registered_solver_is_available_here() -> None:
    assert set(AVAILABLE) == set(SOLVER_NAMES)


@pytest.mark.parametrize("name", SOLVER_NAMES)
@pytest.mark.parametrize("problem", INSTANCES, ids=lambda p: p.name)
def test_plan_is_verified_and_bound_is_valid(name: str, problem: object) -> None:
    compiled = compile_problem(problem)  # type: ignore[arg-type]
    optimum = brute_force_optimum(compiled)
    assert optimum is not None
    solver = get_solver(name)
    options = SolveOptions(time_limit_s=2.0, seed=1)
    result = solver.solve(compiled, options)
    if solver.skip_reason(compiled, options) is not None:
        # A solver that does not apply says why and returns SKIPPED, never a wrong plan.
        assert result.status == SolveStatus.SKIPPED
        return
    assert result.status not in (SolveStatus.ERROR, SolveStatus.INFEASIBLE), result.error
    if result.bound is not None:
        assert result.bound <= optimum + 1e-6 * max(1.0, abs(optimum))
    if result.assignment is None:
        assert name == "lp_bound", f"{name} returned no plan on a feasible tiny instance"
        return
    ev = evaluate_plan(compiled, result.assignment)
    assert ev.feasible, [v.message for v in ev.violations]
    assert ev.score >= optimum - 1e-6
    if result.status == SolveStatus.OPTIMAL:
        assert ev.score == pytest.approx(optimum, rel=1e-6)


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_infeasible_instance_gets_a_correct_verdict(name: str) -> None:
    compiled = compile_problem(tiny_infeasible())
    solver = get_solver(name)
    options = SolveOptions(time_limit_s=2.0, seed=1)
    result = solver.solve(compiled, options)
    if solver.skip_reason(compiled, options) is not None:
        assert result.status == SolveStatus.SKIPPED and result.assignment is None
        return
    if result.assignment is not None:
        # Any plan returned here breaks a constraint, so it must not be sold as a solution.
        assert not evaluate_plan(compiled, result.assignment).feasible
        assert result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    if solver.exact and name != "lp_bound":
        assert result.status == SolveStatus.INFEASIBLE
    else:
        assert result.status in (SolveStatus.NO_SOLUTION, SolveStatus.INFEASIBLE)
