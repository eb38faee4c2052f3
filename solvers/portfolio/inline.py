"""Run the greedy heuristic in the calling process: the fast path for small requests.

A child process costs more than a 20 x 5 solve itself (the service's `?wait` path).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from models import RunOptions
from models.compiled import CompiledProblem
from models.progress import ProgressEvent
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason
from solvers.portfolio.strategy import POST_SOLVE
from solvers.registry import get_solver
from solvers.shared.timing import to_request_clock

__all__ = ["solve_inline"]


def solve_inline(
    compiled: CompiledProblem,
    options: RunOptions,
    t0: float,
    on_progress: Callable[[ProgressEvent], None] | None,
    after_s: float = 0.0,
) -> SolveResult:
    """Greedy in the calling process; a crash is still recorded, never raised."""

    def on_incumbent(assignment: np.ndarray, objective: float) -> None:
        if on_progress is not None:
            at = time.perf_counter() - t0
            on_progress(ProgressEvent("incumbent", "greedy", at, objective, None, assignment))

    started = time.perf_counter()
    pairs = compiled.n_tasks * compiled.n_agents
    reserve_s = POST_SOLVE.seconds(pairs, options.time_limit_s, after_s)
    left_s = options.time_limit_s - reserve_s - (started - t0)
    opts = SolveOptions(
        time_limit_s=max(0.01, left_s),
        # Deterministic: work sized from the limit alone, not from what the clock left.
        work_limit_s=options.time_limit_s - reserve_s if options.deterministic else None,
        seed=options.seed,
        workers=options.workers,
        rel_gap=options.rel_gap,
        deterministic=options.deterministic,
        on_incumbent=on_incumbent,
    )
    try:
        result = get_solver("greedy").solve(compiled, opts)
    except Exception as exc:  # a crashing solver must never fail the request
        result = SolveResult(
            solver="greedy",
            status=SolveStatus.ERROR,
            stop_reason=StopReason.ERROR,
            error=f"{type(exc).__name__}: {exc}",
        )
    # The same clock as the solver processes: times from the request's start.
    return to_request_clock(result, started - t0, time.perf_counter() - started)
