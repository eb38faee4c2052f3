"""Every figure of a comparison means what its name says: the bundled examples in
weighted, lexicographic and Pareto mode, and killed, cancelled and inline solvers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import Problem, RunOptions, compile_problem
from solvers import registry
from solvers.base import SolveStatus
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.report_bounds import BOUND_BUG
from solvers.portfolio.run import run_portfolio
from solvers.portfolio.schedule_runner import ScheduleRunner
from tests.solvers.report_invariants import all_breaches, clock_breaches, status_breaches
from tests.solvers.tiny_instances import tiny_gap

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_EVERY_SOLVER = ["greedy", "cpsat", "milp", "lns", "nsga2", "lp_bound"]


def _example(name: str, objectives: dict | None = None) -> Problem:
    data = json.loads((EXAMPLES / name).read_text())
    data.pop("options", None)
    if objectives is not None:
        data["objectives"] = objectives
    return Problem.model_validate(data)


@pytest.fixture
def failing_solvers() -> Iterator[None]:
    extra = {
        "dier": ("tests.solvers.crashing_solver", "DyingSolver"),
        "hanger": ("tests.solvers.crashing_solver", "HangingSolver"),
    }
    registry._REGISTRY.update(extra)
    yield
    for key in extra:
        registry._REGISTRY.pop(key)


def test_mixed_example_automatic_choice_tells_the_truth() -> None:
    report = run_portfolio(
        _example("mixed.json"), RunOptions(time_limit_s=4.0), breaker=SolverBreaker()
    )
    assert report.status == "solved"
    assert all_breaches(report) == []
    assert report.best_bound is None or report.best_bound_by is not None


def test_mixed_example_lexicographic_compares_bounds_with_the_first_objective() -> None:
    lex = {"mode": "lexicographic", "order": ["makespan", "cost"]}
    report = run_portfolio(
        _example("mixed.json", lex),
        RunOptions(time_limit_s=5.0, solvers=_EVERY_SOLVER),
        breaker=SolverBreaker(),
    )
    assert report.status == "solved"
    assert all_breaches(report) == []
    lp = next(r for r in report.solvers if r.name == "lp_bound")
    assert any("makespan alone" in n for n in lp.notes)


def test_pareto_example_merges_fronts_under_one_normalisation() -> None:
    report = run_portfolio(
        _example("pareto_small.json"),
        RunOptions(time_limit_s=4.0, solvers=["greedy", "cpsat", "nsga2", "lp_bound"]),
        breaker=SolverBreaker(),
    )
    assert report.status == "solved" and report.hypervolume is not None
    assert all_breaches(report) == []
    assert report.ideal_point and set(report.ideal_point) <= {"cost", "makespan"}
    with_plans = [r for r in report.solvers if r.verified]
    assert len(with_plans) >= 2 and all(r.hypervolume is not None for r in with_plans)
    assert max(r.hypervolume or 0.0 for r in with_plans) <= report.hypervolume


def test_inline_path_is_on_the_request_clock() -> None:
    report = run_portfolio(
        tiny_gap(2), RunOptions(time_limit_s=0.5, solvers=["greedy"]), breaker=SolverBreaker()
    )
    greedy = report.solvers[0]
    assert greedy.started_at_s is not None and greedy.started_at_s > 0.0
    assert clock_breaches(report) == []


def test_killed_and_crashed_solvers_keep_the_clock(failing_solvers: None) -> None:
    report = run_portfolio(
        tiny_gap(4),
        RunOptions(time_limit_s=1.0, solvers=["greedy", "hanger", "dier"]),
        breaker=SolverBreaker(),
    )
    hanger = next(r for r in report.solvers if r.name == "hanger")
    assert hanger.time_to_first_s is not None  # it streamed a plan before it was killed
    assert clock_breaches(report) == []


def test_cancelled_solvers_keep_the_clock(failing_solvers: None) -> None:
    stop = threading.Event()
    timer = threading.Timer(0.8, stop.set)
    timer.start()
    report = run_portfolio(
        tiny_gap(5),
        RunOptions(time_limit_s=30, solvers=["greedy", "hanger", "nsga2"]),
        stop=stop,
        breaker=SolverBreaker(),
    )
    timer.join()
    assert any(r.stop_reason == "cancelled" for r in report.solvers)
    assert clock_breaches(report) == []


@pytest.fixture
def lying_solvers() -> Iterator[None]:
    extra = {
        "liar": ("tests.solvers.lying_solver", "UnprovenOptimal"),
        "bound_liar": ("tests.solvers.lying_solver", "BoundAboveEveryPlan"),
        "hanger": ("tests.solvers.crashing_solver", "HangingSolver"),
    }
    registry._REGISTRY.update(extra)
    yield
    for key in extra:
        registry._REGISTRY.pop(key)


def test_unproven_optimal_is_demoted_and_a_wrong_bound_is_named(lying_solvers: None) -> None:
    report = run_portfolio(
        tiny_gap(6),
        RunOptions(time_limit_s=1.5, solvers=["greedy", "liar", "bound_liar"]),
        breaker=SolverBreaker(),
    )
    runs = {r.name: r for r in report.solvers}
    assert runs["liar"].status == "feasible" and runs["liar"].verified
    assert any("reported optimal, but" in n for n in runs["liar"].notes)
    assert any(BOUND_BUG in n for n in runs["bound_liar"].notes)
    assert report.best_bound_by != "bound_liar"
    assert status_breaches(report) == [] and clock_breaches(report) == []


def test_automatic_choice_stops_only_on_a_verified_proof(lying_solvers: None) -> None:
    compiled = compile_problem(tiny_gap(6))
    runner = ScheduleRunner(compiled, RunOptions(time_limit_s=1.0), time.perf_counter(), None, None)
    assert runner.stop_on_optimal
    results = runner.run(["liar", "hanger"])
    assert results["liar"].status == SolveStatus.OPTIMAL  # its claim, checked below
    assert runner.proven_by is None
    assert not any("liar proved" in n for n in results["hanger"].notes)
