"""Batch comparisons fanned out over an executor: one comparison job per instance.

Same inputs, same per-instance records and the same statistics as `run_batch`; only
where the comparisons run differs (a local pool of solve hosts, or a Dask cluster).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from allocator.executors.base import SolveExecutor, SolveHandle
from allocator.reports.batch import (
    BatchReport,
    InstanceResult,
    discover_instances,
    outcome_from_report,
    summarise_batch,
)
from models import InputError, Problem, RunOptions
from models.report import ComparisonReport

__all__ = ["comparison_request", "run_batch_on"]


def comparison_request(problem: Problem, options: RunOptions) -> str:
    """The stored-job JSON of a comparison of `problem` under `options`."""
    document = problem.model_dump(mode="json")
    document["options"] = options.model_dump(mode="json")
    return json.dumps(document)


def run_batch_on(
    executor: SolveExecutor,
    directory: Path,
    options: RunOptions,
    *,
    on_instance: Callable[[str, int, int], None] | None = None,
    on_report: Callable[[str, ComparisonReport], None] | None = None,
    maximise: bool = False,
) -> BatchReport:
    """Compare solvers on every instance in `directory`, all instances submitted at once.

    `on_instance(name, index, total)` is called as each instance's result arrives,
    `on_report(name, report)` with its comparison; `maximise` reads GAP files as profits.
    Cost: one comparison per instance, at most as many in parallel as the executor has
    workers, each bounded by `options.time_limit_s`.
    """
    found = discover_instances(directory, maximise=maximise)
    handles: list[SolveHandle | None] = []
    for _name, _path, problem in found:
        if isinstance(problem, InputError):
            handles.append(None)
            continue
        request = comparison_request(problem, options)
        handles.append(executor.submit("comparison", request, options.time_limit_s))
    results: list[InstanceResult] = []
    for index, ((name, path, problem), handle) in enumerate(zip(found, handles, strict=True)):
        if isinstance(problem, InputError) or handle is None:
            results.append(InstanceResult(instance=name, source=path.name, error=str(problem)))
            continue
        outcome = handle.result()
        if on_instance is not None:
            on_instance(name, index, len(found))
        if outcome.result is None:
            results.append(
                InstanceResult(
                    instance=name,
                    source=path.name,
                    n_tasks=len(problem.tasks),
                    n_agents=len(problem.agents),
                    error=outcome.error or f"no result ({outcome.status})",
                )
            )
            continue
        report = ComparisonReport.model_validate_json(outcome.result)
        if on_report is not None:
            on_report(name, report)
        results.append(
            InstanceResult(
                instance=name,
                source=path.name,
                n_tasks=report.problem.n_tasks,
                n_agents=report.problem.n_agents,
                status=report.status,
                best_bound=report.best_bound,
                outcomes=outcome_from_report(report),
            )
        )
    return summarise_batch(directory.name, options, results, maximise=maximise)
