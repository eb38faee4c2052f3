"""Batch comparisons: every solver on every problem file of a directory, then statistics.

`run_batch` compares per file of a folder, `run_batch_problems` per in-memory problem
(the API's batch job); `summarise_batch` is pure (aggregates, tests, profiles).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from allocator.facade import compare
from allocator.problem_files import load_request
from allocator.reports.batch_models import (
    BatchReport,
    InstanceResult,
    PairComparison,
    ProfileSeries,
    SolverAggregate,
    SolverOutcome,
)
from allocator.reports.batch_summary import (
    PROFILE_TOLERANCE,
    TIE_TOLERANCE,
    TIME_FLOOR_S,
    outcome_from_report,
    summarise_batch,
)
from models import InputError, Problem, RunOptions, gap_to_problem, read_gap_file
from models.report import ComparisonReport

__all__ = [
    "PROFILE_TOLERANCE",
    "TIE_TOLERANCE",
    "TIME_FLOOR_S",
    "BatchReport",
    "InstanceResult",
    "PairComparison",
    "ProfileSeries",
    "SolverAggregate",
    "SolverOutcome",
    "compare_instance",
    "discover_instances",
    "outcome_from_report",
    "run_batch",
    "run_batch_problems",
    "summarise_batch",
]

_SKIP_SUFFIXES = {".html", ".png", ".md", ".csv", ".py", ".gz", ".zip"}
_SKIP_ENDINGS = (".report.json", ".batch.json", ".plan.json")


def _is_candidate(path: Path) -> bool:
    name = path.name.lower()
    return (
        path.is_file()
        and not name.startswith(".")
        and path.suffix.lower() not in _SKIP_SUFFIXES
        and not name.endswith(_SKIP_ENDINGS)
    )


def discover_instances(
    directory: Path, *, maximise: bool = False
) -> list[tuple[str, Path, Problem | InputError]]:
    """(instance name, file, problem or the error reading it), sorted by file name.

    A multi-problem OR-Library GAP file yields one instance per problem (`file#k`).
    `maximise` reads GAP files as profits; a JSON file then records an error.
    """
    if not directory.is_dir():
        raise InputError(
            "is not a directory; give the folder holding problem files", source=str(directory)
        )
    found: list[tuple[str, Path, Problem | InputError]] = []
    for path in sorted(p for p in directory.iterdir() if _is_candidate(p)):
        try:
            if path.read_text(errors="replace").lstrip().startswith("{"):
                found.append((path.stem, path, load_request(path, maximise=maximise)[0]))
                continue
            gap = read_gap_file(path)
            for k, inst in enumerate(gap, start=1):
                name = path.stem if len(gap) == 1 else f"{path.stem}#{k}"
                found.append((name, path, gap_to_problem(inst, maximise=maximise)))
        except InputError as exc:
            found.append((path.stem, path, exc))
    return found


def run_batch(
    directory: Path,
    options: RunOptions,
    *,
    on_instance: Callable[[str, int, int], None] | None = None,
    on_report: Callable[[str, ComparisonReport], None] | None = None,
    maximise: bool = False,
) -> BatchReport:
    """Compare `options.solvers` (all registered if None) on every instance in `directory`.

    `on_report(name, report)` sees each instance's full comparison (the CLI keeps the
    chosen plans); `maximise` reads GAP files as profits.

    Every instance runs under the same options, so the comparison is fair; options
    inside problem files are ignored. An unreadable file or a crashing run is
    recorded on its instance and never stops the batch. Cost: one `compare` per
    instance, each bounded by `options.time_limit_s`.
    """
    found = discover_instances(directory, maximise=maximise)
    results: list[InstanceResult] = []
    for index, (name, path, problem) in enumerate(found):
        if on_instance is not None:
            on_instance(name, index, len(found))
        if isinstance(problem, InputError):
            results.append(InstanceResult(instance=name, source=path.name, error=str(problem)))
            continue
        results.append(compare_instance(name, path.name, problem, options, on_report=on_report))
    return summarise_batch(directory.name, options, results, maximise=maximise)


def run_batch_problems(
    name: str,
    instances: Sequence[tuple[str, Problem]],
    options: RunOptions,
    *,
    on_instance: Callable[[str, int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchReport:
    """`run_batch` over in-memory problems (the API's batch job), in order.

    `on_instance(name, done, total)` is called before each instance and once at the
    end (done == total). Setting `stop` ends the current solve early and the batch
    there: the interrupted instance is left out (its solvers did not get their full
    budget, so it would not compare fairly) and the report covers the finished ones.
    """
    results: list[InstanceResult] = []
    total = len(instances)
    for index, (instance, problem) in enumerate(instances):
        if stop is not None and stop.is_set():
            break
        if on_instance is not None:
            on_instance(instance, index, total)
        result = compare_instance(instance, f"instances[{index}]", problem, options, stop=stop)
        if stop is not None and stop.is_set():
            break
        results.append(result)
    else:
        if on_instance is not None:
            on_instance("", total, total)
    report = summarise_batch(name, options, results)
    if len(results) < total:
        report.notes.insert(0, f"stopped after {len(results)} of {total} instances")
    return report


def compare_instance(
    name: str,
    source: str,
    problem: Problem,
    options: RunOptions,
    *,
    stop: threading.Event | None = None,
    on_report: Callable[[str, ComparisonReport], None] | None = None,
) -> InstanceResult:
    """One instance of a batch: `compare` reduced to per-solver outcomes; never raises."""
    try:
        report = compare(problem, options, stop=stop)
    except Exception as exc:  # a batch records failures per instance, never aborts
        return InstanceResult(
            instance=name,
            source=source,
            n_tasks=len(problem.tasks),
            n_agents=len(problem.agents),
            error=f"{type(exc).__name__}: {exc}",
        )
    if on_report is not None:
        on_report(name, report)
    return InstanceResult(
        instance=name,
        source=source,
        n_tasks=report.problem.n_tasks,
        n_agents=report.problem.n_agents,
        status=report.status,
        best_bound=report.best_bound,
        outcomes=outcome_from_report(report),
    )
