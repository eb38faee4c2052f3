"""Shared assertion for workflow tests: the engine proves a known optimum."""

from __future__ import annotations

import pytest

from models import evaluate_plan
from models.compiled import CompiledProblem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver


def assert_engine_proves(problem: CompiledProblem, optimum: float) -> None:
    """heft (CP-SAT on small workflows) returns a verified schedule at `optimum`, says
    optimal, and its bound does not exceed it."""
    result = get_solver("heft").solve(problem, SolveOptions(time_limit_s=20.0, workers=1))
    assert result.assignment is not None and result.start is not None
    ev = evaluate_plan(problem, result.assignment, result.start)
    assert ev.feasible
    assert result.bound is not None and result.bound <= optimum + 1e-9
    assert result.status == SolveStatus.OPTIMAL
    assert ev.objectives["makespan"] == pytest.approx(optimum, rel=1e-4)
