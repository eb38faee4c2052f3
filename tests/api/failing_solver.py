"""A registered solver that always crashes: what the service's breaker is tested with."""

from __future__ import annotations

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult


class FailingSolver:
    """Raises on every solve, like a backend with a bug triggered by every request."""

    name = "failing"
    exact = False
    multi_objective = False
    anytime = False

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        raise RuntimeError("this solver always fails")
