"""The library's public surface: load a problem, solve it, compare solvers.

`api` and the CLI reach solvers only through these functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from allocator.problem_files import load_problem
from models import Problem, RunOptions
from models.report import ComparisonReport
from solvers.portfolio.run import ProgressEvent, run_portfolio
from solvers.registry import registered_solvers

__all__ = ["ProgressEvent", "compare", "load_problem", "solve"]


def solve(
    problem: Problem,
    options: RunOptions | None = None,
    *,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
) -> ComparisonReport:
    """Run the portfolio (solvers chosen by request size unless options name them).

    Args:
        problem: a validated request.
        options: solvers, time limit, seed, workers; defaults when None.
        on_progress: called with each new incumbent or bound (from the calling thread).
        stop: set it to stop early; the best plan found so far is kept.
    """
    return run_portfolio(problem, options or RunOptions(), on_progress=on_progress, stop=stop)


def compare(
    problem: Problem,
    options: RunOptions | None = None,
    *,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
) -> ComparisonReport:
    """Like `solve`, but runs every registered solver unless options name them."""
    opts = options or RunOptions()
    if opts.solvers is None:
        opts = opts.model_copy(update={"solvers": registered_solvers()})
    return run_portfolio(problem, opts, on_progress=on_progress, stop=stop)


def load(path: str | Path) -> Problem:
    """Alias kept short for notebooks: read a problem file."""
    return load_problem(path)
