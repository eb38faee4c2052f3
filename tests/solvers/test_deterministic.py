"""A deterministic run gives the same plan and statuses every time (same request,
version and machine), and the options that make it so reach the solvers."""

from __future__ import annotations

import os

import pytest

from allocator.facade import solve
from models import RunOptions, compile_problem
from models.generators.instances import generate_attribute_problem
from models.report import ComparisonReport
from solvers.portfolio.solver_choice import choose_solvers
from solvers.portfolio.strategy import CLOCK_DRIVEN
from solvers.registry import registered_solvers
from tests.solvers.tiny_instances import tiny_gap


def _fingerprint(report: ComparisonReport) -> tuple[object, ...]:
    """What must not change between runs: the plan, the statuses, the objectives."""
    assert report.chosen is not None
    runs = tuple((r.name, r.status, r.stop_reason, r.objective) for r in report.solvers)
    return report.status, report.chosen.solver, report.chosen.plan, runs


@pytest.mark.parametrize("solvers", [None, ["greedy"]])
def test_three_runs_give_the_same_plan_and_statuses(solvers: list[str] | None) -> None:
    problem = generate_attribute_problem(12, 4, seed=4)
    options = RunOptions(solvers=solvers, time_limit_s=4.0, seed=3, deterministic=True)
    first, second, third = (_fingerprint(solve(problem, options)) for _ in range(3))
    assert first == second == third


def test_the_greedy_stops_on_its_kick_count_not_the_clock() -> None:
    problem = generate_attribute_problem(40, 6, seed=1)
    options = RunOptions(solvers=["greedy"], time_limit_s=2.0, deterministic=True)
    run = solve(problem, options).solvers[0]
    assert run.stop_reason in ("iterations_done", "gap_reached"), run.notes


def test_clock_driven_solvers_are_left_out_of_a_deterministic_choice() -> None:
    compiled = compile_problem(tiny_gap(2))
    names = registered_solvers()
    usual = choose_solvers(compiled, None, names)
    fixed = choose_solvers(compiled, None, names, deterministic=True)
    assert "lns" in usual.run
    for name in CLOCK_DRIVEN:
        assert name not in fixed.run and "deterministic" in fixed.skipped[name]
    assert "cpsat" in fixed.run, "whole-model CP-SAT serves classic GAPs instead"


def test_workers_default_to_the_cores_this_process_may_use() -> None:
    assert RunOptions().workers == min(64, len(os.sched_getaffinity(0)))
