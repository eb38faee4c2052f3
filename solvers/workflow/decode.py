"""Re-time a fixed assignment: tasks in a priority order, each in its agent's earliest gap.

This is how the improvement phase scores a changed assignment; on HEFT's own
assignment and order it rebuilds HEFT's schedule exactly. Tasks before the first
changed position keep their times (each depends only on tasks placed before it), so
a re-time starts there and only rebuilds the agents' timelines from the kept prefix.
"""

from __future__ import annotations

from bisect import bisect_right

from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule, Timelines

__all__ = ["decode", "first_position"]


def first_position(schedule: Schedule, tasks: list[int]) -> int:
    """The earliest position in `schedule.order` of any of `tasks`."""
    position = schedule.position()
    return min(position[j] for j in tasks)


def decode(
    graph: WorkflowGraph,
    order: list[int],
    agent: list[int],
    base: Schedule | None = None,
    first: int = 0,
) -> Schedule:
    """Schedule `agent` in `order`; with `base`, keep its times for `order[:first]`.

    `base` must have the same order and the same agents on `order[:first]`.
    """
    n = graph.n
    lines = Timelines(graph.m)
    if base is None or first <= 0:
        start, finish, binder = [0.0] * n, [0.0] * n, [-1] * n
        first = 0
    else:
        start, finish, binder = list(base.start), list(base.finish), list(base.binder)
        _rebuild(lines, order[:first], agent, start, finish)
    duration, preds = graph.duration, graph.preds
    data, per_data, fixed = graph.data, graph.per_data, graph.fixed
    for j in order[first:]:
        i = agent[j]
        ready, bound = 0.0, -1
        for p, e in preds[j]:
            ap = agent[p]
            arrive = finish[p] if ap == i else finish[p] + data[e] * per_data[ap][i] + fixed[ap][i]
            if arrive > ready:
                ready, bound = arrive, p
        d = duration[i][j]
        # Timelines.earliest and .add, inlined: this loop is the local search's hot path.
        starts, finishes, tasks = lines.starts[i], lines.finishes[i], lines.tasks[i]
        k = bisect_right(finishes, ready)
        begin, count = ready, len(starts)
        while k < count and begin + d > starts[k]:
            begin = finishes[k]
            k += 1
        if k and finishes[k - 1] == begin and (begin > ready or bound < 0):
            bound = tasks[k - 1]
        elif begin > ready:
            bound = -1
        start[j], finish[j], binder[j] = begin, begin + d, bound
        starts.insert(k, begin)
        finishes.insert(k, begin + d)
        tasks.insert(k, j)
    makespan = max(finish) if n else 0.0
    out = Schedule(list(agent), start, finish, binder, order, makespan, sum(finish))
    if base is not None and base.order is order:
        out.cached_position = base.cached_position
    return out


def _rebuild(
    lines: Timelines, prefix: list[int], agent: list[int], start: list[float], finish: list[float]
) -> None:
    by_agent: list[list[tuple[float, float, int]]] = [[] for _ in lines.starts]
    for j in prefix:
        by_agent[agent[j]].append((start[j], finish[j], j))
    for i, runs in enumerate(by_agent):
        runs.sort()
        lines.starts[i] = [r[0] for r in runs]
        lines.finishes[i] = [r[1] for r in runs]
        lines.tasks[i] = [r[2] for r in runs]
