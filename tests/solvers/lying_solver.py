"""Real solvers that overclaim, registered by the truth tests only: one calls a plan it
cannot prove "optimal", one reports a "bound" above every plan."""

from __future__ import annotations

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason
from solvers.registry import get_solver


class _Base:
    exact = True
    multi_objective = False
    anytime = False

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None


class UnprovenOptimal(_Base):
    """Returns a quick heuristic plan and calls it optimal, with no bound."""

    name = "liar"

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        quick = get_solver("greedy").solve(problem, SolveOptions(time_limit_s=0.05))
        return SolveResult(
            self.name,
            SolveStatus.OPTIMAL,
            StopReason.OPTIMAL_PROVEN,
            assignment=quick.assignment,
            objective=quick.objective,
        )


class BoundAboveEveryPlan(_Base):
    """A bound-only solver whose bound no plan can reach."""

    name = "bound_liar"

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        return SolveResult(
            self.name, SolveStatus.NO_SOLUTION, StopReason.ITERATIONS_DONE, bound=1e12
        )
