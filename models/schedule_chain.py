"""What each scheduled task waited for, and so the schedule's critical path.

A task starts when its last input arrives (a predecessor's finish plus the transfer) or
when its agent frees up (the previous task there finishes), whichever is later. The one
that is tight at its start is what it `waits_for`; following `waits_for` back from the
last task to finish gives a chain with no slack: the critical path of that schedule.
A task that starts later than everything it needs (idle before it) waits for nothing.
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem

__all__ = ["binding_predecessors", "critical_path"]


def binding_predecessors(
    problem: CompiledProblem, assignment: np.ndarray, start: np.ndarray
) -> list[int]:
    """Per task, the index of the task its start waits on, or -1. O(e + n log n).

    Between an input and the agent, the later one binds; on a tie, the input (data
    dependencies explain more than queueing does).
    """
    n = len(assignment)
    duration = problem.duration
    finish = np.full(n, -np.inf)
    placed = np.flatnonzero((assignment >= 0) & np.isfinite(start))
    finish[placed] = start[placed] + duration[assignment[placed], placed]
    best = np.full(n, -np.inf)
    waits = np.full(n, -1, dtype=np.int64)
    flow = problem.workflow
    if flow is not None:
        for e, (p, s) in enumerate(zip(flow.pred.tolist(), flow.succ.tolist(), strict=True)):
            if assignment[p] < 0 or assignment[s] < 0:
                continue
            arrival = finish[p] + flow.transfer(e, int(assignment[p]), int(assignment[s]))
            if arrival > best[s]:
                best[s], waits[s] = arrival, p
    for agent in np.unique(assignment[placed]):
        mine = placed[assignment[placed] == agent]
        mine = mine[np.argsort(start[mine], kind="stable")]
        for before, after in zip(mine[:-1].tolist(), mine[1:].tolist(), strict=True):
            if finish[before] > best[after] + _tolerance(finish[before]):
                best[after], waits[after] = finish[before], before
    out = []
    for j in range(n):
        tight = waits[j] >= 0 and abs(best[j] - start[j]) <= _tolerance(start[j])
        out.append(int(waits[j]) if tight else -1)
    return out


def critical_path(waits_for: dict[str, str | None], finish: dict[str, float]) -> list[str]:
    """Task ids from the first to the last-finishing task along `waits_for` links."""
    if not finish:
        return []
    task: str | None = max(finish, key=lambda t: (finish[t], t))
    chain: list[str] = []
    seen: set[str] = set()
    while task is not None and task not in seen:
        chain.append(task)
        seen.add(task)
        task = waits_for.get(task)
    return chain[::-1]


def _tolerance(value: float) -> float:
    # Durations are float32 in compiled arrays; allow their rounding, nothing more.
    return 1e-6 * max(1.0, abs(float(value)))
