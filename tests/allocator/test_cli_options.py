"""Command-line run options: --deterministic, and the limit covering the command from
its process start (file loading excluded), checked with real solves of tiny requests."""

from __future__ import annotations

import time

import pytest

from allocator.cli_options import (
    CommandClock,
    output_reserve,
    run_options,
    seconds_since_process_start,
    solve_budget,
)
from allocator.facade import solve
from models import RunOptions, evaluate_plan
from models.compiled import compile_problem
from models.generators.instances import generate_attribute_problem
from models.plan import plan_to_array


def test_deterministic_flag_switches_the_option_on_and_keeps_a_files_choice() -> None:
    assert run_options(None, None, None, None, None, True).deterministic
    assert not run_options(None, None, None, None, None).deterministic
    assert run_options(RunOptions(deterministic=True), None, None, None, None).deterministic


def test_process_age_grows_with_the_clock() -> None:
    before = seconds_since_process_start()
    time.sleep(0.05)
    assert seconds_since_process_start() >= before + 0.03


def test_an_in_process_command_counts_from_its_own_start() -> None:
    # pytest's process started long ago; without the entry point's mark that is not counted.
    assert CommandClock.now().spent() < 1.0 < seconds_since_process_start()


@pytest.mark.parametrize("limit", [0.5, 10.0, 600.0])
def test_the_split_adds_up_to_the_limit(limit: float) -> None:
    budget = solve_budget(RunOptions(time_limit_s=limit), CommandClock.now(), 100)
    assert not budget.missed
    total = budget.started_s + budget.options.time_limit_s + budget.output_s
    assert total == pytest.approx(limit)
    assert budget.output_s == output_reserve(100)


def test_a_start_in_the_past_leaves_a_smaller_budget_and_the_solve_keeps_it() -> None:
    problem = generate_attribute_problem(8, 3, seed=1)
    pairs = len(problem.tasks) * len(problem.agents)
    fresh = solve_budget(RunOptions(time_limit_s=2.0), CommandClock.now(), pairs)
    late = solve_budget(
        RunOptions(time_limit_s=2.0), CommandClock(time.perf_counter() - 0.8), pairs
    )
    assert late.started_s >= 0.8
    assert late.options.time_limit_s <= fresh.options.time_limit_s - 0.75
    assert late.options.time_limit_s == pytest.approx(2.0 - late.started_s - late.output_s)
    report = solve(problem, late.options)
    assert report.settings.time_limit_s == late.options.time_limit_s
    assert report.chosen is not None


def test_file_loading_is_not_counted() -> None:
    started = time.perf_counter() - 0.8
    counted = CommandClock(started, load_s=0.0).spent()
    without_load = CommandClock(started, load_s=0.7).spent()
    assert counted - without_load == pytest.approx(0.7, abs=0.01)
    options = RunOptions(time_limit_s=5.0)
    loaded = solve_budget(options, CommandClock(started, load_s=0.7), 10)
    assert (
        loaded.options.time_limit_s
        > solve_budget(options, CommandClock(started), 10).options.time_limit_s
    )


def test_a_start_past_the_limit_returns_the_greedys_first_plan() -> None:
    problem = generate_attribute_problem(12, 4, seed=2)
    options = RunOptions(time_limit_s=0.5, solvers=["cpsat", "milp"])
    budget = solve_budget(options, CommandClock(time.perf_counter() - 0.9), 48)
    assert budget.missed
    assert budget.options.solvers == ["greedy"]
    assert "the start alone used the limit" in budget.line()
    report = solve(problem, budget.options)
    assert [run.name for run in report.solvers] == ["greedy"]
    assert report.chosen is not None
    compiled = compile_problem(problem)
    plan = plan_to_array(compiled, report.chosen.plan)
    assert evaluate_plan(compiled, plan).feasible


def test_a_budget_too_short_for_the_portfolio_runs_the_greedy_alone() -> None:
    budget = solve_budget(RunOptions(time_limit_s=0.2), CommandClock.now(), 10)
    assert not budget.missed
    assert budget.options.solvers == ["greedy"]
    assert "the greedy alone" in budget.line()
    roomy = solve_budget(RunOptions(time_limit_s=5.0), CommandClock.now(), 10)
    assert roomy.options.solvers is None


def test_the_note_names_only_what_the_budget_changed() -> None:
    asked = RunOptions(time_limit_s=5.0, solvers=["greedy"])
    assert solve_budget(asked, CommandClock.now(), 10).note == ""
    past = CommandClock(time.perf_counter() - 6.0)
    replan = solve_budget(RunOptions(time_limit_s=5.0), past, 10, replan=True)
    assert replan.missed and replan.options.solvers is None
    assert "re-planning in the least time" in replan.line()


def test_a_missed_limit_still_leaves_a_large_request_time_for_its_first_plan() -> None:
    past = CommandClock(time.perf_counter() - 2.0)
    small = solve_budget(RunOptions(time_limit_s=0.5), past, 100)
    large = solve_budget(RunOptions(time_limit_s=0.5), past, 10_000_000)
    assert small.missed and large.missed
    assert small.options.time_limit_s < 0.05  # 20 x 5: the first plan takes milliseconds
    assert large.options.time_limit_s > 1.0  # 20,000 x 500: its construction takes seconds
