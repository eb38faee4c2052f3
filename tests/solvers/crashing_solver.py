"""Real solvers that fail on purpose, registered by the portfolio tests only."""

from __future__ import annotations

import os
import time

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult


class _Base:
    exact = False
    multi_objective = False
    anytime = False

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None


class RaisingSolver(_Base):
    name = "raiser"

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        raise RuntimeError("boom: this solver always fails")


class DyingSolver(_Base):
    name = "dier"

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        os._exit(17)  # like a segfault in a native backend: no result, no traceback


class HangingSolver(_Base):
    name = "hanger"

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        import numpy as np

        # Report one valid-looking plan, then ignore the time limit entirely.
        options.report_incumbent(np.zeros(problem.n_tasks, dtype=np.int32), 1e9)
        time.sleep(3600)
        raise AssertionError("unreachable")
