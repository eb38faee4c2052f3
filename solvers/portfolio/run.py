"""The portfolio's entry point: one request, the chosen solvers, one verified report.

Which solvers start, when, and with which share of the budget and cores is the
strategy table (`solvers.portfolio.strategy`), run by `ScheduleRunner`. Every plan is
re-checked by `evaluate_plan` when the report is built.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from models import Plan, Problem, RunOptions, compile_problem
from models.compiled import CompiledProblem
from models.diagnosis import diagnose
from models.progress import ProgressEvent
from models.report import ComparisonReport
from solvers.base import SolveResult, SolveStatus
from solvers.portfolio.breaker import SolverBreaker, default_breaker
from solvers.portfolio.inline import solve_inline
from solvers.portfolio.report_building import build_report, infeasible_report
from solvers.portfolio.schedule_runner import ScheduleRunner
from solvers.portfolio.solver_choice import choose_solvers
from solvers.portfolio.strategy import SIZE_LIMITS
from solvers.portfolio.warm_start import WARM_START_NAME, warm_start_result
from solvers.registry import get_solver, registered_solvers

__all__ = ["ProgressEvent", "run_portfolio"]


def run_portfolio(
    problem: Problem,
    options: RunOptions,
    *,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
    breaker: SolverBreaker | None = None,
    after_s: float = 0.0,
    warm_start: Plan | None = None,
) -> ComparisonReport:
    """Solve `problem` with the chosen solvers; never raises because a solver failed.

    `warm_start`: a plan to start from (a retried job's earlier best); the solvers get
    it as a hint and the plan chosen is never worse (see `portfolio.warm_start`).

    `after_s`: seconds the caller needs once this returns, kept back from the limit
    like the report's own time (`strategy.POST_SOLVE`).

    `breaker` carries solver failures across requests; by default the process-wide
    one. A job runner whose jobs run in fresh processes passes its own (see
    `SolverBreaker.from_dict` / `to_dict`), which this call updates in place.

    Raises:
        UnknownSolverError: options name a solver that is not registered.
    """
    t0 = time.perf_counter()
    breaker = breaker or default_breaker
    for name in options.solvers or []:
        get_solver(name)  # raises UnknownSolverError with the valid names
    compiled = compile_problem(problem)
    reasons = diagnose(problem, compiled)
    if reasons:
        return infeasible_report(problem, compiled, options, reasons, time.perf_counter() - t0)
    run, skipped = _solvers_to_run(compiled, options, breaker)
    warm = warm_start_result(compiled, warm_start) if warm_start is not None else None
    results, extra_bound, method = _solve(
        compiled, options, run, t0, on_progress, stop, after_s, warm
    )
    _record_failures(breaker, results)
    if warm is not None:
        results[WARM_START_NAME] = warm
    return build_report(
        problem,
        compiled,
        options,
        results,
        skipped,
        extra_bound=extra_bound,
        extra_bound_method=method,
        wall_time_s=time.perf_counter() - t0,
        requested=run + list(skipped),
        repairs_until=t0 + options.time_limit_s - after_s,
    )


def _solvers_to_run(
    compiled: CompiledProblem, options: RunOptions, breaker: SolverBreaker
) -> tuple[list[str], dict[str, str]]:
    """The strategy's choice minus the solvers the breaker holds open (with reasons)."""
    choice = choose_solvers(
        compiled,
        options.solvers,
        registered_solvers(),
        options.workers,
        deterministic=options.deterministic,
        time_limit_s=options.time_limit_s,
    )
    skipped = dict(choice.skipped)
    run = []
    for name in choice.run:
        why = breaker.skip_reason(name)
        if why:
            skipped[name] = why
        else:
            run.append(name)
    return run, skipped


def _solve(
    compiled: CompiledProblem,
    options: RunOptions,
    run: list[str],
    t0: float,
    on_progress: Callable[[ProgressEvent], None] | None,
    stop: threading.Event | None,
    after_s: float,
    warm: SolveResult | None = None,
) -> tuple[dict[str, SolveResult], float | None, str | None]:
    """Results per solver and the background (Lagrangian) bound and its method, if any."""
    small = compiled.n_tasks * compiled.n_agents <= SIZE_LIMITS.inline_max_pairs
    if run == ["greedy"] and small:
        # Small greedy-only requests (the service's fast path): a child process would
        # cost more than the solve itself.
        return {"greedy": solve_inline(compiled, options, t0, on_progress, after_s)}, None, None
    runner = ScheduleRunner(compiled, options, t0, on_progress, stop, after_s)
    if warm is not None and warm.assignment is not None and warm.objective is not None:
        runner.best = (warm.objective, warm.assignment)  # the first hint, like a streamed plan
    results = runner.run(run)
    return results, runner.lagrangian_bound, runner.lagrangian_method


def _record_failures(breaker: SolverBreaker, results: dict[str, SolveResult]) -> None:
    """A crash or an overrun stopped from outside counts against the solver."""
    for name, result in results.items():
        stopped = "stopped from outside" in " ".join(result.notes)
        breaker.record(name, ok=not (result.status == SolveStatus.ERROR or stopped))
