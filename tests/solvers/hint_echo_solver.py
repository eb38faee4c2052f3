"""A real solver that returns the first hint it was given (no hint: no plan), so a test
can see which plans the portfolio hands its solvers."""

from __future__ import annotations

import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason


class HintEchoSolver:
    name = "hint_echo"
    exact = False
    multi_objective = False
    anytime = False

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        if not options.hints:
            return SolveResult(self.name, SolveStatus.NO_SOLUTION, StopReason.ITERATIONS_DONE)
        plan = np.asarray(options.hints[0], dtype=np.int32)
        return SolveResult(
            self.name, SolveStatus.FEASIBLE, StopReason.ITERATIONS_DONE, assignment=plan
        )
