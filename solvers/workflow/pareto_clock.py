"""When the workflow NSGA-II's generation loop stops (`pareto_search`): early enough that
the last generation's archive newcomers can be re-checked with evaluate_plan, and a margin
for sending the result, before the deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.workflow.heft import Schedule

__all__ = ["SearchClock"]

#: The loop stops early enough for a generation's archive newcomers to be re-checked
#: with evaluate_plan (this many times the seconds one check took, per member) and a
#: margin. Checks still left at the deadline are not made (those members are not
#: returned).
_CHECK_SAFETY = 3.0
_RECHECK_EVERY = 5  # generations between two measurements of a check's time
#: Kept back from the limit for choosing, the hypervolume and sending the result (at 3%
#: of a 4 s limit, a loaded machine had the portfolio stop it 0.05 s past its budget; at
#: 0.1 s + 5% the CI run's test suite, both cores busy, did again, so 10%; that was
#: before solver budgets counted from the process's launch, not re-measured since).
_MARGIN_S = 0.1
_MARGIN_SHARE = 0.1


@dataclass
class SearchClock:
    """When the loop must stop so the archive's newcomers can still be checked in time."""

    deadline: float
    margin: float
    check_s: float  # seconds one evaluate_plan check takes, as last measured

    @classmethod
    def starting(
        cls, problem: CompiledProblem, deadline: float, limit_s: float, seeds: list[Any]
    ) -> SearchClock:
        """The clock for a run of `limit_s` ending at `deadline`; a check timed on the seeds."""
        margin = min(_MARGIN_S + _MARGIN_SHARE * limit_s, 0.2 * limit_s)
        return cls(deadline, margin, _check_seconds([s.schedule for s in seeds[:3]], problem))

    def stop_at(self, newcomers: int) -> float:
        """The loop's last moment to start a generation that may bring `newcomers` members."""
        return self.deadline - self.margin - _CHECK_SAFETY * max(1, newcomers) * self.check_s

    def after_generation(self, done: int, problem: CompiledProblem, members: list[Any]) -> None:
        """Every few generations, time a check again: solvers starting side by side slow
        the first checks; later ones are typical."""
        if done % _RECHECK_EVERY:
            return
        schedules = [x.schedule for x in members[:3] if x.schedule is not None]
        if schedules:
            self.check_s = _check_seconds(schedules, problem)

    def checks_end(self) -> float:
        """The checks stop here: the rest of the result (choice, hypervolume) follows."""
        return self.deadline - self.margin / 2


def _check_seconds(schedules: list[Schedule], problem: CompiledProblem) -> float:
    """The median seconds evaluate_plan takes on these schedules, as the result calls it."""
    times = []
    for schedule in schedules:
        began = time.perf_counter()
        evaluate_plan(problem, np.array(schedule.agent), np.array(schedule.start))
        times.append(time.perf_counter() - began)
    return sorted(times)[len(times) // 2]
