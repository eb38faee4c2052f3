"""Run one job's request through the facade and turn the report into a stored outcome.

This runs inside a worker process; it never touches the database.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from allocator.facade import compare, solve
from allocator.jobs.batch_requests import parse_batch_request
from allocator.jobs.failure_notes import one_line, scrub_report
from allocator.jobs.plan_relay import PlanRelay, PlanSender
from allocator.jobs.resume import stored_plan
from allocator.problem_files import parse_request
from allocator.replan_report import replan_report
from allocator.replanning import split_replan_fields
from allocator.store import JobOutcome
from allocator.topology_facade import optimize_topology, parse_topology_request
from models import InputError
from models.progress import ProgressEvent
from models.report import ComparisonReport
from solvers.portfolio.breaker import SolverBreaker

__all__ = ["execute_job", "outcome_from_report"]

log = logging.getLogger("allocator.jobs")


def execute_job(
    kind: str,
    request_text: str,
    *,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    on_instances: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    job_id: str = "",
    breaker_state: dict[str, Any] | None = None,
    on_plan: PlanSender | None = None,
    warm_start: str | None = None,
) -> JobOutcome:
    """Solve the stored request; never raises (a failure becomes a `failed` outcome).

    `on_instances(done, total)` reports a batch's progress; other kinds report solver
    incumbents and bounds through `on_progress`. A failure is stored as one line; its
    traceback goes to the log with `job_id`. With `breaker_state` (a service's solver
    breaker, see `BreakerBoard`) the portfolio consults and updates that breaker, and
    the outcome carries its new state. With `on_plan` the best incumbent plan, verified,
    is sent as the solve goes (at most every `PLAN_INTERVAL_S`, and at the end).
    `warm_start` is a best-plan document an earlier attempt stored: the solve starts
    from it and returns no worse a plan.
    """
    stop = stop or threading.Event()
    try:
        document = json.loads(request_text)
        if kind == "batch":
            return _execute_batch(document, on_instances, stop)
        if kind == "topology":
            request, _ = parse_topology_request(document)
            topo = optimize_topology(request, stop=stop)
            return JobOutcome(
                status="cancelled" if stop.is_set() else "succeeded",
                stop_reason="cancelled" if stop.is_set() else "completed",
                solution="feasible" if topo.objective_after is not None else "none",
                objective=topo.objective_after,
                result=topo.model_dump_json(),
            )
        document, replan_request = split_replan_fields(document)
        problem, options = parse_request(document)
        if replan_request is not None:  # an allocation re-planned from a previous plan
            report = replan_report(problem, options, replan_request)
            return outcome_from_report(scrub_report(report, job_id), cancelled=False)
        run = compare if kind == "comparison" else solve
        breaker = SolverBreaker.from_dict(breaker_state) if breaker_state is not None else None
        relay = PlanRelay(problem, on_plan) if on_plan is not None else None
        try:
            progress = on_progress if relay is None else _relaying(on_progress, relay)
            report = run(
                problem,
                options,
                on_progress=progress,
                stop=stop,
                breaker=breaker,
                warm_start=stored_plan(warm_start, job_id),
            )
        finally:
            if relay is not None:
                relay.close()
        outcome = outcome_from_report(scrub_report(report, job_id), cancelled=stop.is_set())
        if breaker is not None:
            outcome = dataclasses.replace(outcome, breaker_state=breaker.to_dict())
        return outcome
    except InputError as exc:  # checked at submission; only a schema change gets here
        return JobOutcome("failed", "error", "none", error=f"invalid request: {one_line(str(exc))}")
    except Exception as exc:  # a failed job must be recorded, never crash the worker
        log.exception("job failed", extra={"job_id": job_id, "kind": kind})
        error = one_line(f"{type(exc).__name__}: {exc}")
        return JobOutcome("failed", "error", "none", error=error)


def _relaying(
    on_progress: Callable[[ProgressEvent], None] | None, relay: PlanRelay
) -> Callable[[ProgressEvent], None]:
    """Progress to the listener, incumbents' plans to the relay."""

    def both(event: ProgressEvent) -> None:
        relay.offer(event)
        if on_progress is not None:
            on_progress(event)

    return both


def _execute_batch(
    document: object, on_instances: Callable[[int, int], None] | None, stop: threading.Event
) -> JobOutcome:
    """Compare every instance in turn; a cancel keeps the finished instances' results."""
    from allocator.reports.batch import run_batch_problems  # scipy loads only for batches

    request = parse_batch_request(document)
    batch = run_batch_problems(
        request.name,
        request.instances,
        request.options,
        on_instance=None if on_instances is None else lambda _n, done, n: on_instances(done, n),
        stop=stop,
    )
    for instance in batch.instances:  # errors as one line each, no server paths
        instance.error = one_line(instance.error) if instance.error else instance.error
        for run in instance.outcomes:
            run.error = one_line(run.error) if run.error else run.error
    solved = any(o.objective is not None for i in batch.instances for o in i.outcomes)
    return JobOutcome(
        status="cancelled" if stop.is_set() else "succeeded",
        stop_reason="cancelled" if stop.is_set() else "completed",
        solution="feasible" if solved else "none",
        result=batch.model_dump_json(),
    )


def outcome_from_report(report: ComparisonReport, *, cancelled: bool) -> JobOutcome:
    """Status says how the job ended; stop_reason why; solution what it has."""
    chosen = report.chosen
    if report.status == "infeasible":
        solution = "infeasible"
    elif chosen is None:
        solution = "none"
    else:
        run = next((r for r in report.solvers if r.name == chosen.solver), None)
        solution = "optimal" if run is not None and run.status == "optimal" else "feasible"
    if cancelled:
        stop_reason = "cancelled"
    elif solution in ("optimal", "infeasible"):
        stop_reason = "proven"
    elif any(r.stop_reason == "time_limit" for r in report.solvers):
        stop_reason = "time_limit"
    else:
        stop_reason = "completed"
    return JobOutcome(
        status="cancelled" if cancelled else "succeeded",
        stop_reason=stop_reason,
        solution=solution,
        objective=_finite(chosen.objective if chosen else None),
        bound=_finite(report.best_bound),
        result=report.model_dump_json(),
    )


def _finite(value: float | None) -> float | None:
    """A stored figure is a number or absent, never NaN or infinity."""
    return value if value is not None and math.isfinite(value) else None
