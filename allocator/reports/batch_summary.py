"""Batch statistics from per-instance outcomes: aggregates, paired tests and profiles.

Times compared here are times to target on the request's clock: seconds from the
start of an instance's request until a solver held a plan within PROFILE_TOLERANCE of
the best plan any solver found on that instance. Wall times are not compared: they
are the budgets the portfolio handed out, not how fast a solver got somewhere.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

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
from models import RunOptions
from models.report import ComparisonReport

__all__ = [
    "PROFILE_TOLERANCE",
    "TIE_TOLERANCE",
    "TIME_FLOOR_S",
    "outcome_from_report",
    "reached_time",
    "summarise_batch",
    "time_to_target",
]

# Objectives within this relative distance of the best count as equal (tie, not loss).
TIE_TOLERANCE = 1e-6
# A solver reaches the target on an instance once its plan is this close to the best.
PROFILE_TOLERANCE = 1e-3
# Time profiles divide by the fastest time; this floor keeps a 0 s run from making it infinite.
TIME_FLOOR_S = 1e-3
# A solver that never reaches the target counts as this many time limits (PAR2 scoring).
UNREACHED_FACTOR = 2.0


def _rel_gap(value: float | None, best: float | None) -> float | None:
    if value is None or best is None:
        return None
    return max(0.0, (value - best) / max(abs(best), 1e-9))


def _within(value: float, target: float, tolerance: float) -> bool:
    return value <= target + tolerance * max(abs(target), 1e-9)


def time_to_target(
    trace: Sequence[tuple[float, float]],
    objective: float | None,
    time_to_best_s: float | None,
    target: float | None,
) -> float | None:
    """Seconds from the request's start until the plan came within tolerance of `target`.

    None when the verified `objective` never got there. The trace (request clock)
    gives the first such moment when its last value agrees with the verified
    objective; otherwise only `time_to_best_s` is trusted.
    """
    if objective is None or target is None or time_to_best_s is None:
        return None
    if not _within(objective, target, PROFILE_TOLERANCE):
        return None
    best_t = time_to_best_s
    if trace and abs(trace[-1][1] - objective) <= TIE_TOLERANCE * max(abs(objective), 1.0):
        first = next((t for t, v in trace if _within(v, target, PROFILE_TOLERANCE)), None)
        if first is not None:
            best_t = min(best_t, first)
    return best_t


def outcome_from_report(report: ComparisonReport) -> list[SolverOutcome]:
    """Reduce a comparison report to per-solver outcomes; unverified plans get no objective."""
    verified = [r.objective for r in report.solvers if r.verified and r.objective is not None]
    target = min(verified) if verified else None
    outcomes = []
    for r in report.solvers:
        objective = r.objective if r.verified else None
        best_s = r.time_to_best_s if r.verified else None
        outcomes.append(
            SolverOutcome(
                solver=r.name,
                status=r.status,
                objective=objective,
                wall_time_s=r.wall_time_s,
                time_to_best_s=best_s,
                time_to_target_s=time_to_target(r.trace, objective, best_s, target),
                gap=r.gap,
                error=r.error,
            )
        )
    return outcomes


def reached_time(o: SolverOutcome | None, inst: InstanceResult) -> float | None:
    """The outcome's time to the instance's target, or None if it never got there."""
    if o is None or not _within_best(o.objective, inst.best_objective()):
        return None
    # Outcomes stored before time to target existed fall back to the time of their best plan.
    return o.time_to_target_s if o.time_to_target_s is not None else o.time_to_best_s


def _within_best(value: float | None, best: float | None) -> bool:
    gap = _rel_gap(value, best)
    return gap is not None and gap <= PROFILE_TOLERANCE


def _scored_time(o: SolverOutcome | None, inst: InstanceResult, penalty_s: float) -> float:
    reached = reached_time(o, inst)
    return penalty_s if reached is None else reached


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
    penalty_s: float,
) -> SolverAggregate:
    gaps, times = [], []
    wins = ties = losses = reached = 0
    for inst, o in zip(instances, outcomes, strict=True):
        best = inst.best_objective()
        value = o.objective if o else None
        times.append(_scored_time(o, inst, penalty_s))
        reached += reached_time(o, inst) is not None
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
        n_reached_target=reached,
        mean_rel_gap=statistics.fmean(gaps) if gaps else None,
        median_rel_gap=statistics.median(gaps) if gaps else None,
        # A solver that never got there has no time to speak of (a bound-only method).
        median_time_to_target_s=statistics.median(times) if reached else None,
        sgm_time_to_target_s=shifted_geometric_mean(times, shift_s) if reached else None,
        wins=wins,
        ties=ties,
        losses=losses,
    )


def _metric_pairs(
    metric: str,
    oa: SolverOutcome | None,
    ob: SolverOutcome | None,
    inst: InstanceResult,
    penalty_s: float,
) -> tuple[float, float] | None:
    if oa is None or ob is None:
        return None
    if metric == "time to target":
        return _scored_time(oa, inst, penalty_s), _scored_time(ob, inst, penalty_s)
    best = inst.best_objective()
    ga, gb = _rel_gap(oa.objective, best), _rel_gap(ob.objective, best)
    return None if ga is None or gb is None else (ga, gb)


def _verdict(
    a: str, b: str, n_nonzero: int, p: float | None, p_holm: float, r: float | None, alpha: float
) -> str:
    if n_nonzero == 0 or p is None:
        return "no difference observed"
    if p_holm < alpha and r is not None:
        return f"{a} better" if r > 0 else f"{b} better"
    return "not significant"


def _pair_tests(
    table: dict[str, list[SolverOutcome | None]],
    instances: Sequence[InstanceResult],
    alpha: float,
    penalty_s: float,
) -> list[PairComparison]:
    """Wilcoxon per pair on relative gap (instances both solved) and on time to target."""
    out: list[PairComparison] = []
    for metric in ("relative gap", "time to target"):
        rows = []
        for a, b in itertools.combinations(table, 2):
            pairs = [
                _metric_pairs(metric, oa, ob, inst, penalty_s)
                for inst, oa, ob in zip(instances, table[a], table[b], strict=True)
            ]
            kept = [p for p in pairs if p is not None]
            rows.append((a, b, paired_wilcoxon([x for x, _ in kept], [y for _, y in kept])))
        adjusted = holm_adjust([t.p_value if t.p_value is not None else 1.0 for _, _, t in rows])
        for (a, b, t), p_holm in zip(rows, adjusted, strict=True):
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
                    verdict=_verdict(a, b, t.n_nonzero, t.p_value, p_holm, t.effect_size, alpha),
                )
            )
    return out


def _profiles(
    planned: Sequence[str],
    table: dict[str, list[SolverOutcome | None]],
    solved: Sequence[InstanceResult],
) -> tuple[list[ProfileSeries], list[ProfileSeries]]:
    time_measure: dict[str, list[float]] = {}
    objective_measure: dict[str, list[float]] = {}
    for s in planned:
        times, ratios = [], []
        for inst, o in zip(solved, table[s], strict=True):
            reached = reached_time(o, inst)
            times.append(float("inf") if reached is None else max(reached, TIME_FLOOR_S))
            gap = _rel_gap(o.objective if o else None, inst.best_objective())
            ratios.append(1.0 + gap if gap is not None else float("inf"))
        time_measure[s], objective_measure[s] = times, ratios

    def series(measure: dict[str, list[float]]) -> list[ProfileSeries]:
        return [
            ProfileSeries(solver=c.solver, taus=c.taus, fractions=c.fractions)
            for c in performance_profile(measure)
        ]

    return series(time_measure), series(objective_measure)


def summarise_batch(
    name: str,
    options: RunOptions,
    instances: Sequence[InstanceResult],
    *,
    alpha: float = 0.05,
    shift_s: float = 1.0,
    maximise: bool = False,
) -> BatchReport:
    """Aggregates, Holm-corrected paired tests and performance profiles of instance results."""
    solvers = list(
        dict.fromkeys(
            [*(options.solvers or []), *(o.solver for i in instances for o in i.outcomes)]
        )
    )
    solved = [i for i in instances if i.error is None]
    table = _table(solved, solvers)
    penalty_s = UNREACHED_FACTOR * options.time_limit_s
    # A solver with no plan anywhere (a bound-only method, or one that always failed)
    # has nothing to pair or profile; it keeps its row in the aggregates.
    planned = [s for s in solvers if any(o and o.objective is not None for o in table[s])]
    time_profile, objective_profile = _profiles(planned, table, solved)
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
        aggregates=[_aggregate(s, table[s], solved, shift_s, penalty_s) for s in solvers],
        tests=_pair_tests({s: table[s] for s in planned}, solved, alpha, penalty_s),
        time_profile=time_profile,
        objective_profile=objective_profile,
        alpha=alpha,
        shift_s=shift_s,
        target_tolerance=PROFILE_TOLERANCE,
        unreached_time_s=penalty_s,
        maximise=maximise,
        notes=notes,
    )
