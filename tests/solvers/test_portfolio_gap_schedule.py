"""The small classic GAP schedule (issue 12): HiGHS and the LNS get the whole budget side
by side beside a short greedy (HiGHS with the request's threads, the LNS on one core of
two); a phase that would start with almost nothing left is not started."""

from __future__ import annotations

import time

from models import RunOptions, compile_problem
from solvers.base import SolveStatus, StopReason
from solvers.portfolio.schedule_runner import ScheduleRunner
from solvers.portfolio.strategy import Budget, Phase, Slot, strategy_for
from tests.solvers.tiny_instances import tiny_gap

_NAMES = ["greedy", "milp", "lns"]


def test_highs_and_the_lns_share_the_whole_budget_beside_a_short_greedy() -> None:
    strategy = strategy_for(compile_problem(tiny_gap(1)), _NAMES)
    (phase,) = strategy.phases
    placed = dict(strategy.slots_for(phase, _NAMES))
    assert set(placed) == set(_NAMES)
    assert phase.budget.share is None  # the whole budget
    for name in ("milp", "lns"):
        assert placed[name].budget is None and placed[name].start_share == 0.0
    assert placed["lns"].core_share == 0.5  # one core of two
    assert placed["greedy"].budget is not None and placed["greedy"].budget.max_s <= 0.5


def test_highs_gets_the_thread_count_a_plain_model_gets() -> None:
    """HiGHS's path depends on its thread count: the portfolio's HiGHS is given the
    request's workers, as a plain model run on the machine would be, and the LNS beside
    it one core of two."""
    compiled = compile_problem(tiny_gap(1))
    strategy = strategy_for(compiled, _NAMES)
    placed = dict(strategy.slots_for(strategy.phases[0], _NAMES))
    for workers in (1, 2, 4):
        options = RunOptions(time_limit_s=4.0, workers=workers, seed=0)
        runner = ScheduleRunner(compiled, options, time.perf_counter(), None, None)
        assert runner._workers(placed["milp"], parallel=3) == workers
        assert runner._workers(placed["lns"], parallel=3) == max(1, workers // 2)


def test_a_phase_with_too_little_left_is_not_started() -> None:
    compiled = compile_problem(tiny_gap(1))
    options = RunOptions(time_limit_s=4.0, workers=1, seed=0)
    phase = Phase((Slot("lns"),), min_left=Budget(0.25))  # 1 s of a 4 s limit
    fresh = ScheduleRunner(compiled, options, time.perf_counter(), None, None)
    assert not fresh._too_late_for(phase)
    spent = ScheduleRunner(compiled, options, time.perf_counter() - 3.5, None, None)
    assert spent._too_late_for(phase)
    assert not spent._too_late_for(Phase((Slot("lns"),)))  # no floor: whatever is left


def test_small_classic_gap_starts_highs_and_the_lns_at_once_and_stops_on_a_proof() -> None:
    compiled = compile_problem(tiny_gap(2))
    options = RunOptions(time_limit_s=10.0, workers=2, seed=0)  # greedy's budget: 0.5 s
    started = time.perf_counter()
    runner = ScheduleRunner(compiled, options, started, None, None)
    results = runner.run(_NAMES)
    greedy, milp, lns = (results[n] for n in _NAMES)
    assert greedy.started_at_s is not None
    for late in (milp, lns):  # beside greedy, not after it
        assert late.started_at_s is not None and late.started_at_s < greedy.started_at_s + 0.3
    assert runner.proven_by in ("milp", "lns")
    assert results[runner.proven_by].status == SolveStatus.OPTIMAL
    other = lns if runner.proven_by == "milp" else milp
    assert other.status == SolveStatus.OPTIMAL or other.stop_reason == StopReason.GAP_REACHED
    assert time.perf_counter() - started < 5.0  # the proof ended the run, not the limit
