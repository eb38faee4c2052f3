"""Say in words why a request has no feasible plan.

Cheap counting checks first (a task no agent can take, demand above total
capacity); then CP-SAT with one assumption literal per requirement group, whose
sufficient assumptions for infeasibility name the blocking requirements.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem
from solvers.base import SolveOptions, TraceRecorder
from solvers.cpsat.model import formulate
from solvers.cpsat.run import run_model

__all__ = ["counting_checks", "diagnose_infeasibility"]

#: Cores up to this many requirements are shrunk by deletion (one solve each).
_MAX_SHRINK = 40


def counting_checks(problem: CompiledProblem) -> list[str]:
    """Blocking requirements visible without search. Cost: O(m * n * d)."""
    if problem.allow_unassigned:
        return []
    reasons: list[str] = []
    cap = problem.capacity
    for j in np.flatnonzero(~problem.eligible.any(axis=0))[:10]:
        task = problem.task_ids[j]
        too_big = [
            dim
            for k, dim in enumerate(problem.resources)
            if np.all(problem.usage[:, j, k] > cap[:, k] + 1e-9)
        ]
        if too_big:
            dim = too_big[0]
            k = problem.resources.index(dim)
            reasons.append(
                f"task {task} needs {problem.usage[:, j, k].min():.6g} {dim}, more than "
                f"any agent's capacity (largest {cap[:, k].max():.6g})"
            )
        else:
            reasons.append(
                f"task {task} has no eligible agent: no agent has all its required "
                "capabilities (or its pinned agent cannot take it)"
            )
    for k, dim in enumerate(problem.resources):
        least = np.where(problem.eligible, problem.usage[:, :, k], np.inf).min(axis=0)
        need = float(least[np.isfinite(least)].sum())
        have = float(cap[:, k].astype(np.float64).sum())
        if need > have * (1 + 1e-9):
            reasons.append(
                f"{dim} demand exceeds total capacity by {need - have:.6g} "
                f"(needs at least {need:.6g}, agents hold {have:.6g})"
            )
    slots = int(np.minimum(problem.max_tasks, problem.n_tasks).astype(np.int64).sum())
    if problem.n_tasks > slots:
        reasons.append(f"{problem.n_tasks} tasks but the agents' max_tasks allow only {slots}")
    for group in problem.anti_affinity:
        hosts = int(problem.eligible[:, group].any(axis=1).sum())
        if len(group) > hosts:
            names = ", ".join(problem.task_ids[j] for j in group[:4])
            reasons.append(
                f"anti-affinity group ({names}, ...) has {len(group)} tasks but only "
                f"{hosts} agents can take any of them"
            )
    return reasons


def diagnose_infeasibility(problem: CompiledProblem, time_limit_s: float = 5.0) -> list[str]:
    """Name the requirements that cannot hold together; [] when a plan exists or unknown."""
    reasons = counting_checks(problem)
    if reasons:
        return reasons
    model = formulate(problem, (), guarded=True)
    options = SolveOptions(time_limit_s=time_limit_s, workers=1)
    outcome = run_model(
        model,
        None,
        problem,
        options,
        time_limit_s,
        TraceRecorder(),
        assumptions=model.guard_literals,
    )
    if outcome.status != cp_model.INFEASIBLE:
        return []
    if not outcome.core:
        return ["the hard constraints cannot all hold together (CP-SAT proved it)"]
    core = _shrink_core(model, problem, options, list(outcome.core), time_limit_s)
    return ["these requirements cannot all hold together: " + _describe(model, core)]


def _shrink_core(model, problem, options, core: list[int], time_limit_s: float) -> list[int]:
    """Drop assumptions one by one while the rest stays infeasible (small cores only)."""
    if len(core) > _MAX_SHRINK:
        return core
    literal = {lit.index: lit for lit in model.guard_literals}
    recorder = TraceRecorder()
    for k in list(core):
        left = time_limit_s - recorder.elapsed()
        if left <= 0.05:
            break
        trial = [c for c in core if c != k]
        outcome = run_model(
            model,
            None,
            problem,
            options,
            min(left, 1.0),
            TraceRecorder(),
            assumptions=[literal[c] for c in trial],
        )
        if outcome.status == cp_model.INFEASIBLE:
            core = trial
    return core


def _describe(model, core: list[int]) -> str:
    """Requirements in words, with per-task "must be assigned" lines merged."""
    named = [model.guards[k] for k in core if k in model.guards]
    tasks = [n.split()[1] for n in named if n.endswith("must be assigned")]
    rest = [n for n in named if not n.endswith("must be assigned")]
    if len(tasks) > 1:
        listed = ", ".join(tasks[:8]) + (", ..." if len(tasks) > 8 else "")
        rest.insert(0, f"tasks {listed} must each be assigned")
    elif tasks:
        rest.insert(0, f"task {tasks[0]} must be assigned")
    return "; ".join(rest)
