"""Structural infeasibility checks that name the blocking requirement in words.

These are necessary conditions only (cheap, O(m * n * d)); a solver's proof covers
the rest.
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem
from models.schema import Problem

__all__ = ["diagnose", "unassigned_reason"]


def diagnose(problem: Problem, compiled: CompiledProblem) -> list[str]:
    """Reasons the request cannot be fully assigned; empty when none is obvious."""
    reasons: list[str] = []
    if compiled.allow_unassigned:
        return reasons
    agent_caps = {c for a in problem.agents for c in a.capabilities}
    # One reduction over the matrix finds the tasks no agent can take; only those loop.
    takeable = np.any(compiled.eligible, axis=0)
    for j in np.flatnonzero(~takeable):
        task = problem.tasks[j]
        missing = [c for c in task.requires if c not in agent_caps]
        if missing:
            reasons.append(f"task {task.id} requires capability {missing[0]} that no agent has")
        elif task.pinned_agent is not None:
            reasons.append(
                f"task {task.id} is pinned to agent {task.pinned_agent}, which lacks a "
                "required capability or the capacity for its demand"
            )
        else:
            reasons.append(
                f"task {task.id}: no agent has both its capabilities and the capacity "
                "for its demand"
            )
        if len(reasons) >= 10:
            return reasons
    # Total demand per dimension against total capacity (cheapest usage per task).
    min_use = _cheapest_eligible_usage(compiled, takeable)  # [n, d]
    finite = np.isfinite(min_use).all(axis=1)
    demand = min_use[finite].astype(np.float64).sum(axis=0)
    capacity = compiled.capacity.astype(np.float64).sum(axis=0)
    for k, dim in enumerate(compiled.resources):
        if demand[k] > capacity[k] * (1 + 1e-9) + 1e-9:
            reasons.append(
                f"{dim} demand exceeds total capacity by {demand[k] - capacity[k]:.6g} "
                f"(demand {demand[k]:.6g}, capacity {capacity[k]:.6g})"
            )
    total_slots = int(np.minimum(compiled.max_tasks, compiled.n_tasks).sum())
    if total_slots < compiled.n_tasks:
        reasons.append(
            f"agents accept at most {total_slots} tasks in total (max_tasks) but there are "
            f"{compiled.n_tasks}"
        )
    for group in compiled.anti_affinity:
        eligible_any = compiled.eligible[:, group].any(axis=1).sum()
        if eligible_any < len(group):
            names = ", ".join(compiled.task_ids[j] for j in group[:5])
            reasons.append(
                f"anti-affinity group [{names}...] needs {len(group)} distinct agents; "
                f"only {eligible_any} are eligible"
            )
    for group in compiled.co_location:
        together = compiled.eligible[:, group].all(axis=1)
        fits = together & np.all(
            compiled.usage[:, group, :].sum(axis=1) <= compiled.capacity + 1e-9, axis=1
        )
        if not fits.any():
            names = ", ".join(compiled.task_ids[j] for j in group[:5])
            reasons.append(f"co-location group [{names}] fits on no single agent")
    return reasons


def _cheapest_eligible_usage(compiled: CompiledProblem, takeable: np.ndarray) -> np.ndarray:
    """float32[n, d]: each task's least usage over its eligible agents, inf when none.

    `takeable[j]`: some agent is eligible for task j. Usage broadcast from demand (the
    same row for every agent) needs no search; otherwise a masked minimum per resource,
    without the float32[m, n, d] copy `np.where` would make.
    """
    usage = compiled.usage
    if usage.shape[0] and usage.strides[0] == 0:
        return np.where(takeable[:, None], usage[0], np.float32(np.inf))
    min_use = np.empty((compiled.n_tasks, compiled.n_dims), dtype=np.float32)
    for k in range(compiled.n_dims):
        usage[:, :, k].min(axis=0, where=compiled.eligible, initial=np.inf, out=min_use[:, k])
    return min_use


def unassigned_reason(compiled: CompiledProblem, task: int) -> str:
    """Why a task could have been left unassigned, for the report."""
    if not compiled.eligible[:, task].any():
        return "no agent has the capabilities and capacity it needs"
    return "eligible agents had no capacity left for it at a better objective"
