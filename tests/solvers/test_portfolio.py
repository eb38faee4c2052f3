"""The portfolio: verified choice, failing solvers recorded and never fatal, cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from models import Problem, RunOptions
from models.report import ComparisonReport
from solvers import registry
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import ProgressEvent, run_portfolio
from tests.solvers.tiny_instances import tiny_attributes, tiny_gap, tiny_infeasible


@pytest.fixture
def failing_solvers() -> Iterator[None]:
    extra = {
        "raiser": ("tests.solvers.crashing_solver", "RaisingSolver"),
        "dier": ("tests.solvers.crashing_solver", "DyingSolver"),
        "hanger": ("tests.solvers.crashing_solver", "HangingSolver"),
    }
    registry._REGISTRY.update(extra)
    yield
    for key in extra:
        registry._REGISTRY.pop(key)


def _run(problem: Problem, **kw: object) -> ComparisonReport:
    opts = RunOptions.model_validate({"time_limit_s": 2.0, **kw})
    return run_portfolio(problem, opts, breaker=SolverBreaker())


def test_default_portfolio_solves_and_verifies() -> None:
    events: list[ProgressEvent] = []
    report = run_portfolio(
        tiny_attributes(),
        RunOptions(time_limit_s=3.0),
        on_progress=events.append,
        breaker=SolverBreaker(),
    )
    assert report.status == "solved"
    assert report.chosen is not None
    chosen = next(r for r in report.solvers if r.name == report.chosen.solver)
    assert chosen.verified
    assert all(r.verified for r in report.solvers if r.objective is not None)
    assert report.best_bound is not None and report.best_bound <= report.chosen.objective + 1e-6
    assert any(e.kind == "incumbent" for e in events)
    assert report.wall_time_s < 3.0 + 3.0


def test_gap_is_zero_when_an_exact_solver_proves_optimality() -> None:
    report = _run(tiny_gap(3), solvers=["greedy", "cpsat"])
    cpsat = next(r for r in report.solvers if r.name == "cpsat")
    assert cpsat.status == "optimal"
    assert cpsat.gap == pytest.approx(0.0, abs=1e-9)


def test_failing_solvers_are_recorded_never_fatal(failing_solvers: None) -> None:
    start = time.perf_counter()
    report = _run(tiny_gap(4), solvers=["greedy", "raiser", "dier", "hanger"], time_limit_s=1.5)
    elapsed = time.perf_counter() - start
    runs = {r.name: r for r in report.solvers}
    assert report.status == "solved"
    assert report.chosen is not None and report.chosen.solver == "greedy"
    assert runs["raiser"].status == "error" and "boom" in (runs["raiser"].error or "")
    assert runs["dier"].status == "error" and "17" in (runs["dier"].error or "")
    # Stopped at the request's limit (it had streamed a plan) or after its grace.
    assert runs["hanger"].stop_reason == "time_limit"
    assert "stopped" in " ".join(runs["hanger"].notes)
    # the hanger's streamed plan (all on agent 0) breaks capacity: reported invalid, not chosen
    assert runs["hanger"].verified is False
    assert elapsed < 1.5 + 1.0 + 3.0


def test_breaker_skips_a_solver_that_keeps_failing(failing_solvers: None) -> None:
    breaker = SolverBreaker(threshold=2, open_s=60)
    opts = RunOptions(time_limit_s=1.0, solvers=["greedy", "raiser"])
    for _ in range(2):
        run_portfolio(tiny_gap(5), opts, breaker=breaker)
    report = run_portfolio(tiny_gap(5), opts, breaker=breaker)
    raiser = next(r for r in report.solvers if r.name == "raiser")
    assert raiser.status == "skipped" and "breaker open" in raiser.notes[0]


def test_cancel_keeps_the_best_plan_so_far(failing_solvers: None) -> None:
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    start = time.perf_counter()
    report = run_portfolio(
        tiny_gap(6),
        RunOptions(time_limit_s=30, solvers=["greedy", "hanger"]),
        stop=stop,
        breaker=SolverBreaker(),
    )
    assert time.perf_counter() - start < 5
    assert report.chosen is not None and report.chosen.solver == "greedy"
    hanger = next(r for r in report.solvers if r.name == "hanger")
    assert hanger.stop_reason == "cancelled"


def test_structurally_infeasible_request_is_diagnosed_without_solving() -> None:
    problem = Problem.model_validate(
        {"agents": [{"id": "a"}], "tasks": [{"id": "t17", "requires": ["gpu"]}]}
    )
    report = _run(problem)
    assert report.status == "infeasible"
    assert report.diagnosis == ["task t17 requires capability gpu that no agent has"]


def test_proven_infeasible_by_a_solver() -> None:
    report = _run(tiny_infeasible(), solvers=["greedy", "cpsat"])
    assert report.status == "infeasible"
    assert report.diagnosis


def test_pareto_mode_returns_a_front_with_a_knee() -> None:
    problem = Problem.model_validate(
        {
            **tiny_attributes().model_dump(),
            "objectives": {"mode": "pareto", "pareto": ["cost", "makespan"]},
        }
    )
    report = _run(problem, time_limit_s=4.0)
    assert report.status == "solved"
    front = report.pareto_front
    assert front and sum(p.knee for p in front) == 1
    costs = [p.objectives["cost"] for p in front]
    spans = [p.objectives["makespan"] for p in front]
    assert costs == sorted(costs) and spans == sorted(spans, reverse=True)


def test_automatic_choice_stops_once_optimality_is_proven() -> None:
    report = run_portfolio(
        tiny_attributes(), RunOptions(time_limit_s=30.0), breaker=SolverBreaker()
    )
    assert report.status == "solved"
    assert report.wall_time_s < 15  # nothing waits for the 30 s limit after a proof
    proven = [r for r in report.solvers if r.status == "optimal"]
    assert proven and all(r.verified for r in proven)
