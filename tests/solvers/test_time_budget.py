"""The limit is a promise: the portfolio keeps time back for what follows its solvers
(wrap-up, joining, the report), and stops a solver still running into that reserve.
Not timed: these check the budgets the runner hands out, not how long anything took."""

from __future__ import annotations

import time

from models import RunOptions, compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.portfolio.schedule_runner import ScheduleRunner
from solvers.portfolio.strategy import POST_SOLVE, Budget, strategy_for


def test_reserve_grows_with_size_and_stays_a_share_of_the_limit() -> None:
    small, large = POST_SOLVE.seconds(100, 10.0), POST_SOLVE.seconds(10_000_000, 10.0)
    assert 0 < small < large <= POST_SOLVE.max_share * 10.0
    assert POST_SOLVE.seconds(10_000_000, 0.05) <= POST_SOLVE.max_share * 0.05


def test_solver_budgets_end_before_the_reserve() -> None:
    compiled = compile_problem(generate_attribute_problem(200, 20, seed=1))
    options = RunOptions(solvers=["greedy"], time_limit_s=4.0, workers=1)
    t0 = time.perf_counter()
    runner = ScheduleRunner(compiled, options, t0, None, None)
    reserve = POST_SOLVE.seconds(200 * 20, 4.0)
    assert runner.deadline == t0 + 4.0 - reserve
    assert runner.deadline < runner.hard_stop < t0 + 4.0
    # The whole-budget phase of greedy-only requests gets at most what is left before
    # the reserve, however large its share of the limit.
    phase = strategy_for(compiled, ["greedy"]).phases[0]
    assert phase.budget.seconds(4.0, runner._remaining()) <= 4.0 - reserve
    assert Budget().seconds(4.0, runner._remaining()) <= 4.0 - reserve
