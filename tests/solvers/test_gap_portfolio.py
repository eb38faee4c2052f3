"""Classic GAP requests: the LNS gets the cores, skipped solvers say why, lanes stay verified."""

from __future__ import annotations

import highspy
import numpy as np

from models import RunOptions, compile_problem, evaluate_plan, gap_to_problem
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions
from solvers.lns.neighbourhoods import NeighbourhoodPicker
from solvers.lns.solver import LnsSolver
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import run_portfolio
from solvers.portfolio.solver_choice import choose_solvers
from solvers.registry import registered_solvers
from tests.solvers.tiny_instances import tiny_attributes, tiny_gap


def test_pure_gap_runs_greedy_lns_and_highs_when_small() -> None:
    choice = choose_solvers(compile_problem(tiny_gap(1)), None, registered_solvers())
    assert choice.run == ["greedy", "milp", "lns"]
    for name in ("cpsat", "lp_bound"):
        assert "classic GAP" in choice.skipped[name]


def test_large_pure_gap_gives_the_lns_the_cores_and_says_why() -> None:
    compiled = compile_gap(generate_gap("E", 20, 1_100, seed=1))
    choice = choose_solvers(compiled, None, registered_solvers())
    assert choice.run == ["greedy", "lns"]
    for name in ("cpsat", "milp", "lp_bound"):
        assert "classic GAP" in choice.skipped[name]


def test_explicit_request_and_other_problems_keep_their_solvers() -> None:
    available = registered_solvers()
    explicit = choose_solvers(compile_problem(tiny_gap(1)), ["cpsat", "milp"], available)
    assert explicit.run == ["cpsat", "milp"]
    mixed = choose_solvers(compile_problem(tiny_attributes()), None, available)
    assert "cpsat" in mixed.run


def test_small_gap_stops_once_highs_or_the_lns_proves_it_optimal() -> None:
    # Solver processes are forked and inherit HiGHS's thread scheduler; start from a
    # fresh one as a new service process would (earlier tests ran HiGHS in-process).
    highspy.Highs.resetGlobalScheduler(True)
    report = run_portfolio(
        tiny_gap(7, m=4, n=12), RunOptions(time_limit_s=3.0, workers=2), breaker=SolverBreaker()
    )
    assert report.status == "solved" and report.chosen is not None
    names = {r.name: r for r in report.solvers}
    # HiGHS and the LNS run side by side; the first proof stops the other.
    proved = [n for n in ("milp", "lns") if names[n].verified and names[n].status == "optimal"]
    assert proved
    for other in {"milp", "lns"} - set(proved):
        assert any("proved its plan optimal" in note for note in names[other].notes)
    assert names["cpsat"].status == "skipped" and names["cpsat"].notes
    assert report.wall_time_s < 3.0


def test_large_gap_runs_greedy_beside_the_lns_with_a_bound() -> None:
    instance = generate_gap("C", 20, 1_100, seed=2)
    report = run_portfolio(
        gap_to_problem(instance), RunOptions(time_limit_s=4.0, workers=2), breaker=SolverBreaker()
    )
    assert report.status == "solved" and report.chosen is not None
    names = {r.name: r for r in report.solvers}
    assert names["lns"].verified and names["greedy"].verified
    assert names["milp"].status == "skipped"
    assert report.best_bound is not None
    assert report.best_bound <= report.chosen.objective + 1e-6
    assert report.wall_time_s < 4.0 + 3.0


def test_parallel_lanes_keep_plans_feasible_and_never_worse_than_the_hint() -> None:
    compiled = compile_gap(generate_gap("D", 20, 200, seed=5))
    first = LnsSolver().solve(compiled, SolveOptions(time_limit_s=0.5, workers=1)).assignment
    assert first is not None
    hint = evaluate_plan(compiled, first).score
    result = LnsSolver().solve(compiled, SolveOptions(time_limit_s=2.5, workers=2, hints=[first]))
    assert result.assignment is not None
    ev = evaluate_plan(compiled, result.assignment)
    assert ev.feasible and ev.score <= hint
    assert any("2 lane(s)" in note for note in result.notes)
    assert result.bound is not None and result.bound <= ev.score


def test_task_neighbourhood_keeps_each_task_free_to_stay_where_it_is() -> None:
    compiled = compile_gap(generate_gap("C", 10, 100, seed=3))
    plan = LnsSolver().solve(compiled, SolveOptions(time_limit_s=0.5, workers=1)).assignment
    assert plan is not None
    picker = NeighbourhoodPicker(compiled, np.random.default_rng(0), None, None)
    free, agents = picker.pick_tasks(plan, 30)
    assert len(free) == 30 and len(np.unique(free)) == 30
    allowed = picker.allowed(plan, free, agents)
    rows = np.searchsorted(agents, plan[free])
    assert allowed[rows, np.arange(len(free))].all()
    assert (allowed.sum(axis=0) <= 7).all()
