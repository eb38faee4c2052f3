"""Batch comparisons: every solver on every problem file of a directory, then statistics.

`run_batch` compares per file of a folder, `run_batch_problems` per in-memory problem
(the API's batch job); `summarise_batch` is pure (aggregates, tests, profiles).
"""

from __future__ import annotations

import itertools
import statistics
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
from allocator.reports.batch_stats import (
    holm_adjust,
    paired_wilcoxon,
    performance_profile,
    shifted_geometric_mean,
)
from models import InputError, Problem, RunOptions, gap_to_problem, read_gap_file
from models.report import ComparisonReport

__all__ = [
    "TIE_TOLERANCE",
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

# Objectives within this relative distance of the best count as equal (tie, not loss).
TIE_TOLERANCE = 1e-6
# The time profile counts a solver on an instance once its plan is this close to the best.
PROFILE_TOLERANCE = 1e-3
# Time profiles divide by the fastest time; this floor keeps a 0 s run from making it infinite.
TIME_FLOOR_S = 1e-3
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


def discover_instances(directory: Path) -> list[tuple[str, Path, Problem | InputError]]:
    """(instance name, file, problem or the error reading it), sorted by file name.

    A multi-problem OR-Library GAP file yields one instance per problem (`file#k`).
    """
    if not directory.is_dir():
        raise InputError(
            "is not a directory; give the folder holding problem files", source=str(directory)
        )
    found: list[tuple[str, Path, Problem | InputError]] = []
    for path in sorted(p for p in directory.iterdir() if _is_candidate(p)):
        try:
            if path.read_text(errors="replace").lstrip().startswith("{"):
                found.append((path.stem, path, load_request(path)[0]))
                continue
            gap = read_gap_file(path)
            for k, inst in enumerate(gap, start=1):
                name = path.stem if len(gap) == 1 else f"{path.stem}#{k}"
                found.append((name, path, gap_to_problem(inst)))
        except InputError as exc:
            found.append((path.stem, path, exc))
    return found


def outcome_from_report(report: ComparisonReport) -> list[SolverOutcome]:
    """Reduce a comparison report to per-solver outcomes; unverified plans get no objective."""
    return [
        SolverOutcome(
            solver=r.name,
            status=r.status,
            objective=r.objective if r.verified else None,
            wall_time_s=r.wall_time_s,
            time_to_best_s=r.time_to_best_s if r.verified else None,
            gap=r.gap,
            error=r.error,
        )
        for r in report.solvers
    ]


def run_batch(
    directory: Path,
    options: RunOptions,
    *,
    on_instance: Callable[[str, int, int], None] | None = None,
) -> BatchReport:
    """Compare `options.solvers` (all registered if None) on every instance in `directory`.

    Every instance runs under the same options, so the comparison is fair; options
    inside problem files are ignored. An unreadable file or a crashing run is
    recorded on its instance and never stops the batch. Cost: one `compare` per
    instance, each bounded by `options.time_limit_s`.
    """
    found = discover_instances(directory)
    results: list[InstanceResult] = []
    for index, (name, path, problem) in enumerate(found):
        if on_instance is not None:
            on_instance(name, index, len(found))
        if isinstance(problem, InputError):
            results.append(InstanceResult(instance=name, source=path.name, error=str(problem)))
            continue
        results.append(compare_instance(name, path.name, problem, options))
    return summarise_batch(directory.name, options, results)


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
    return InstanceResult(
        instance=name,
        source=source,
        n_tasks=report.problem.n_tasks,
        n_agents=report.problem.n_agents,
        status=report.status,
        best_bound=report.best_bound,
        outcomes=outcome_from_report(report),
    )


def _rel_gap(value: float | None, best: float | None) -> float | None:
    if value is None or best is None:
        return None
    return max(0.0, (value - best) / max(abs(best), 1e-9))


def _is_best(value: float | None, best: float | None) -> bool:
    gap = _rel_gap(value, best)
    return gap is not None and gap <= TIE_TOLERANCE


def _table(
    instances: Sequence[InstanceResult], solvers: Sequence[str]
) -> dict[str, list[SolverOutcome | None]]:
    table: dict[str, list[SolverOutcome | None]] = {s: [] for s in solvers}
    for inst in instances:
        by_name = {o.solver: o for o in inst.outcomes}
        for s in solvers:
            table[s].append(by_name.get(s))
    return table


def _aggregate(
    solver: str,
    outcomes: list[SolverOutcome | None],
    instances: Sequence[InstanceResult],
    shift_s: float,
) -> SolverAggregate:
    gaps, times = [], []
    wins = ties = losses = 0
    for inst, o in zip(instances, outcomes, strict=True):
        best = inst.best_objective()
        value = o.objective if o else None
        if o is not None:
            times.append(o.wall_time_s)
        gap = _rel_gap(value, best)
        if gap is not None:
            gaps.append(gap)
        if _is_best(value, best):
            n_best = sum(1 for other in inst.outcomes if _is_best(other.objective, best))
            wins, ties = (wins + 1, ties) if n_best == 1 else (wins, ties + 1)
        else:
            losses += 1
    return SolverAggregate(
        solver=solver,
        n_instances=len(instances),
        n_solved=len(gaps),
        mean_rel_gap=statistics.fmean(gaps) if gaps else None,
        median_rel_gap=statistics.median(gaps) if gaps else None,
        mean_time_s=statistics.fmean(times) if times else None,
        median_time_s=statistics.median(times) if times else None,
        sgm_time_s=shifted_geometric_mean(times, shift_s),
        wins=wins,
        ties=ties,
        losses=losses,
    )


def _pair_tests(
    table: dict[str, list[SolverOutcome | None]], instances: Sequence[InstanceResult], alpha: float
) -> list[PairComparison]:
    """Wilcoxon per pair on relative gap (instances both solved) and on wall time."""
    out: list[PairComparison] = []
    for metric in ("relative gap", "wall time"):
        rows = []
        for a, b in itertools.combinations(table, 2):
            xs, ys = [], []
            for inst, oa, ob in zip(instances, table[a], table[b], strict=True):
                if oa is None or ob is None:
                    continue
                if metric == "wall time":
                    xs.append(oa.wall_time_s)
                    ys.append(ob.wall_time_s)
                    continue
                best = inst.best_objective()
                ga, gb = _rel_gap(oa.objective, best), _rel_gap(ob.objective, best)
                if ga is not None and gb is not None:
                    xs.append(ga)
                    ys.append(gb)
            rows.append((a, b, paired_wilcoxon(xs, ys)))
        adjusted = holm_adjust([t.p_value if t.p_value is not None else 1.0 for _, _, t in rows])
        for (a, b, t), p_holm in zip(rows, adjusted, strict=True):
            if t.n_nonzero == 0 or t.p_value is None:
                verdict = "no difference observed"
            elif p_holm < alpha and t.effect_size is not None:
                verdict = f"{a} better" if t.effect_size > 0 else f"{b} better"
            else:
                verdict = "not significant"
            out.append(
                PairComparison(
                    metric=metric,
                    solver_a=a,
                    solver_b=b,
                    n_pairs=t.n_pairs,
                    n_nonzero=t.n_nonzero,
                    statistic=t.statistic,
                    p_value=t.p_value,
                    p_holm=p_holm if t.p_value is not None else None,
                    effect_size=t.effect_size,
                    verdict=verdict,
                )
            )
    return out


def summarise_batch(
    name: str,
    options: RunOptions,
    instances: Sequence[InstanceResult],
    *,
    alpha: float = 0.05,
    shift_s: float = 1.0,
) -> BatchReport:
    """Aggregates, Holm-corrected paired tests and performance profiles of instance results."""
    solvers = list(
        dict.fromkeys(
            [*(options.solvers or []), *(o.solver for i in instances for o in i.outcomes)]
        )
    )
    solved = [i for i in instances if i.error is None]
    table = _table(solved, solvers)
    # A solver with no plan anywhere (a bound-only method, or one that always failed)
    # has nothing to pair or profile; it keeps its row in the aggregates.
    planned = [s for s in solvers if any(o and o.objective is not None for o in table[s])]
    time_measure: dict[str, list[float]] = {}
    objective_measure: dict[str, list[float]] = {}
    for s in planned:
        times, ratios = [], []
        for inst, o in zip(solved, table[s], strict=True):
            gap = _rel_gap(o.objective if o else None, inst.best_objective())
            reached = gap is not None and gap <= PROFILE_TOLERANCE
            if reached and o is not None and o.time_to_best_s is not None:
                times.append(max(o.time_to_best_s, TIME_FLOOR_S))
            else:
                times.append(float("inf"))
            ratios.append(1.0 + gap if gap is not None else float("inf"))
        time_measure[s], objective_measure[s] = times, ratios
    notes = [f"{i.instance}: {i.error}" for i in instances if i.error]
    notes += [
        f"{s} produced no verified plan on any instance; left out of the tests and profiles"
        for s in solvers
        if s not in planned
    ]
    return BatchReport(
        name=name,
        settings=options,
        solvers=solvers,
        instances=list(instances),
        aggregates=[_aggregate(s, table[s], solved, shift_s) for s in solvers],
        tests=_pair_tests({s: table[s] for s in planned}, solved, alpha),
        time_profile=[
            ProfileSeries(solver=c.solver, taus=c.taus, fractions=c.fractions)
            for c in performance_profile(time_measure)
        ],
        objective_profile=[
            ProfileSeries(solver=c.solver, taus=c.taus, fractions=c.fractions)
            for c in performance_profile(objective_measure)
        ],
        alpha=alpha,
        shift_s=shift_s,
        notes=notes,
    )
