"""The library's public surface: load a problem, solve it, compare solvers.

`api` and the CLI reach solvers only through these functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from allocator.decisions import diff_request, evaluate_request, explain_request, recommend_request
from allocator.problem_files import load_problem
from allocator.replanning import replan
from models import Plan, Problem, RunOptions, compile_problem
from models.plan import plan_to_array
from models.plan_why import plan_why
from models.report import ComparisonReport
from solvers.portfolio.breaker import SolverBreaker
from solvers.portfolio.run import ProgressEvent, run_portfolio
from solvers.registry import registered_solvers

#: Largest request (agents x tasks) whose report gets a Why section.
WHY_MAX_PAIRS = 2_000_000
#: Seconds per (agent, task) pair the Why section takes (0.4 s at 2M pairs on the
#: 2-core machine, `python -m bench.time_limit`): kept back from the time limit.
WHY_S_PER_PAIR = 2e-7

__all__ = [
    "ProgressEvent",
    "compare",
    "diff_request",
    "evaluate_request",
    "explain_request",
    "load_problem",
    "recommend_request",
    "replan",
    "solve",
    "with_why",
]


def solve(
    problem: Problem,
    options: RunOptions | None = None,
    *,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
    breaker: SolverBreaker | None = None,
    warm_start: Plan | None = None,
) -> ComparisonReport:
    """Run the portfolio (solvers chosen by request size unless options name them).

    Args:
        problem: a validated request.
        options: solvers, time limit, seed, workers; defaults when None.
        on_progress: called with each new incumbent or bound (from the calling thread).
        stop: set it to stop early; the best plan found so far is kept.
        breaker: the solver circuit breaker to consult and update (a service's, carried
            across its jobs); the process-wide one by default.
        warm_start: a plan to start from (a retried job's earlier best): a hint to the
            solvers, and the plan returned is never worse than it.
    """
    report = run_portfolio(
        problem,
        options or RunOptions(),
        on_progress=on_progress,
        stop=stop,
        breaker=breaker,
        after_s=_why_seconds(problem),
        warm_start=warm_start,
    )
    return with_why(problem, report)


def compare(
    problem: Problem,
    options: RunOptions | None = None,
    *,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
    breaker: SolverBreaker | None = None,
    warm_start: Plan | None = None,
) -> ComparisonReport:
    """Like `solve`, but runs every registered solver unless options name them."""
    opts = options or RunOptions()
    if opts.solvers is None:
        opts = opts.model_copy(update={"solvers": registered_solvers()})
    report = run_portfolio(
        problem,
        opts,
        on_progress=on_progress,
        stop=stop,
        breaker=breaker,
        after_s=_why_seconds(problem),
        warm_start=warm_start,
    )
    return with_why(problem, report)


def _why_seconds(problem: Problem) -> float:
    """What `with_why` will take, so the solvers leave it room within the limit."""
    pairs = len(problem.agents) * len(problem.tasks)
    return WHY_S_PER_PAIR * pairs if pairs <= WHY_MAX_PAIRS else 0.0


def with_why(problem: Problem, report: ComparisonReport) -> ComparisonReport:
    """The report with its Why section (binding resources, unassigned tasks' reasons).

    Skipped above `WHY_MAX_PAIRS` (agent, task) pairs: it compiles the problem again,
    which a large request should not pay for after its solve.
    """
    if report.chosen is None or len(problem.agents) * len(problem.tasks) > WHY_MAX_PAIRS:
        return report
    compiled = compile_problem(problem)
    assignment = plan_to_array(compiled, report.chosen.plan)
    return report.model_copy(update={"why": plan_why(problem, compiled, assignment)})


def load(path: str | Path) -> Problem:
    """Alias kept short for notebooks: read a problem file."""
    return load_problem(path)
