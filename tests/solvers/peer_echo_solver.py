"""A real solver that waits for the first plan another solver of the request passes on
(`SolveOptions.new_peer_plans`) and returns it, so a test can see that plans flow
between running solvers."""

from __future__ import annotations

import time

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason


class PeerEchoSolver:
    name = "peer_echo"
    exact = False
    multi_objective = False
    anytime = False

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        stop = time.perf_counter() + options.time_limit_s
        while time.perf_counter() < stop:
            plans = options.new_peer_plans()
            if plans:
                return SolveResult(
                    self.name, SolveStatus.FEASIBLE, StopReason.ITERATIONS_DONE, assignment=plans[0]
                )
            time.sleep(0.01)
        return SolveResult(self.name, SolveStatus.NO_SOLUTION, StopReason.TIME_LIMIT)
