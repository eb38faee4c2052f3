"""The figures of a comparison report checked against each other: one clock, honest
statuses, bounds on the quantity they bound. Each check returns the breaches it found."""

from __future__ import annotations

from models.report import ComparisonReport
from solvers.portfolio.report_bounds import BOUND_BUG
from solvers.shared.timing import clock_violations

_TOL = 1e-6


def clock_breaches(report: ComparisonReport) -> list[str]:
    """started <= first <= best <= started + wall, trace inside the run, for every solver."""
    out = []
    for run in report.solvers:
        for why in clock_violations(
            run.started_at_s, run.time_to_first_s, run.time_to_best_s, run.wall_time_s
        ):
            out.append(f"{run.name}: {why}")
        if run.trace and run.started_at_s is not None:
            end = run.started_at_s + run.wall_time_s
            if not all(run.started_at_s - _TOL <= t <= end + _TOL for t, _ in run.trace):
                out.append(f"{run.name}: trace outside [{run.started_at_s}, {end}]")
        if run.status != "skipped" and run.started_at_s is None:
            out.append(f"{run.name}: ran but has no started_at_s")
    return out


def status_breaches(report: ComparisonReport) -> list[str]:
    """No optimal status with a gap above rel_gap or without a verified plan."""
    out = []
    rel_gap = report.settings.rel_gap
    for run in report.solvers:
        if run.status != "optimal":
            continue
        if not run.verified:
            out.append(f"{run.name}: optimal but its plan is not verified")
        if report.problem.mode != "pareto" and (run.gap is None or run.gap > rel_gap + 1e-12):
            out.append(f"{run.name}: optimal with gap {run.gap} > {rel_gap}")
    return out


def bound_breaches(report: ComparisonReport) -> list[str]:
    """No bound above the verified value of the quantity it bounds; no ignored bound."""
    out = []
    verified = [r for r in report.solvers if r.verified and r.objectives is not None]
    for run in report.solvers:
        out += [f"{run.name}: {n}" for n in run.notes if BOUND_BUG in n]
    if report.problem.mode == "pareto":
        for name, bound in (report.ideal_point or {}).items():
            best = min((r.objectives[name] for r in verified if r.objectives), default=None)
            if best is not None and bound > best + _TOL * max(1.0, abs(best)):
                out.append(f"ideal {name} {bound} > verified {best}")
        return out
    best = min((r.objective for r in verified if r.objective is not None), default=None)
    bounds = [("report", report.best_bound)] + [(r.name, r.bound) for r in report.solvers]
    for name, bound in bounds:
        if bound is not None and best is not None and bound > best + _TOL * max(1.0, abs(best)):
            out.append(f"{name}: bound {bound} > verified {best}")
    return out


def hypervolume_breaches(report: ComparisonReport) -> list[str]:
    """Pareto: each solver's hypervolume in [0, merged], all under one normalisation."""
    if report.problem.mode != "pareto" or report.hypervolume is None:
        return []
    out = []
    if not 0.0 <= report.hypervolume <= 1.0:
        out.append(f"merged hypervolume {report.hypervolume} outside [0, 1]")
    for run in report.solvers:
        if run.hypervolume is not None and not 0 <= run.hypervolume <= report.hypervolume + 1e-9:
            out.append(f"{run.name}: hypervolume {run.hypervolume} > merged {report.hypervolume}")
    return out


def all_breaches(report: ComparisonReport) -> list[str]:
    return (
        clock_breaches(report)
        + status_breaches(report)
        + bound_breaches(report)
        + hypervolume_breaches(report)
    )
