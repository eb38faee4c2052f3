"""The small classic GAP schedule (issue 12): HiGHS gets 70% of the limit beside a short
greedy, and a phase that would start with almost nothing left is not started."""

from __future__ import annotations

import time

from models import RunOptions, compile_problem
from solvers.base import SolveStatus, StopReason
from solvers.portfolio.schedule_runner import ScheduleRunner
from solvers.portfolio.strategy import Budget, Phase, Slot, strategy_for
from tests.solvers.tiny_instances import tiny_gap

_NAMES = ["greedy", "milp", "lns"]


def test_highs_gets_most_of_the_budget_beside_greedy_and_the_lns_the_rest() -> None:
    strategy = strategy_for(compile_problem(tiny_gap(1)), _NAMES)
    first, *rest = strategy.phases
    placed = dict(strategy.slots_for(first, _NAMES))
    assert set(placed) == {"greedy", "milp"}
    assert placed["milp"].budget is None  # HiGHS runs to the end of its phase
    assert first.budget.share is not None and first.budget.share >= 0.7  # its long turn
    assert placed["greedy"].budget is not None and placed["greedy"].budget.max_s <= 0.5
    lns_phase = next(p for p in rest if strategy.slots_for(p, _NAMES))
    assert lns_phase.unless_proven and lns_phase.min_left is not None


def test_a_phase_with_too_little_left_is_not_started() -> None:
    compiled = compile_problem(tiny_gap(1))
    options = RunOptions(time_limit_s=4.0, workers=1, seed=0)
    phase = Phase((Slot("lns"),), min_left=Budget(0.25))  # 1 s of a 4 s limit
    fresh = ScheduleRunner(compiled, options, time.perf_counter(), None, None)
    assert not fresh._too_late_for(phase)
    spent = ScheduleRunner(compiled, options, time.perf_counter() - 3.5, None, None)
    assert spent._too_late_for(phase)
    assert not spent._too_late_for(Phase((Slot("lns"),)))  # no floor: whatever is left


def test_small_classic_gap_starts_highs_at_once_and_stops_on_its_proof() -> None:
    compiled = compile_problem(tiny_gap(2))
    options = RunOptions(time_limit_s=10.0, workers=2, seed=0)  # greedy's budget: 0.5 s
    runner = ScheduleRunner(compiled, options, time.perf_counter(), None, None)
    results = runner.run(_NAMES)
    greedy, milp, lns = (results[n] for n in _NAMES)
    assert greedy.started_at_s is not None and milp.started_at_s is not None
    assert milp.started_at_s < greedy.started_at_s + 0.3  # beside greedy, not after it
    assert milp.status == SolveStatus.OPTIMAL
    assert lns.status == SolveStatus.SKIPPED and lns.stop_reason == StopReason.NOT_STARTED
