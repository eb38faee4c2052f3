"""HEFT (Topcuoglu, Hariri and Wu, 2002): upward rank, insertion-based earliest finish.

`list_schedule` places tasks in priority order, each on the allowed agent where it
finishes first (inserted into the earliest idle gap that holds it).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from dataclasses import dataclass, field

from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.rules import PlacementRules

__all__ = ["Schedule", "Timelines", "list_schedule", "priority_order", "upward_ranks"]


@dataclass
class Schedule:
    """A full schedule: agent, start and finish per task, and what bound each start.

    `binder[j]` is the task whose finish (plus transfer) fixed j's start, -1 when j
    starts at 0; following it back from the last task gives a critical path.
    """

    agent: list[int]
    start: list[float]
    finish: list[float]
    binder: list[int]
    order: list[int]
    makespan: float
    total_finish: float
    cached_position: list[int] | None = field(default=None, repr=False)

    def position(self) -> list[int]:
        """position[j]: where task j stands in `order` (computed once per order)."""
        if self.cached_position is None:
            position = [0] * len(self.order)
            for k, j in enumerate(self.order):
                position[j] = k
            self.cached_position = position
        return self.cached_position

    def key(self) -> tuple[float, float]:
        """Lower is better: makespan first, then the sum of finish times."""
        return (self.makespan, self.total_finish)

    def critical_path(self) -> list[int]:
        """Tasks from the last-finishing one back to a task that starts at time 0."""
        j = max(range(len(self.finish)), key=self.finish.__getitem__)
        path: list[int] = []
        while j >= 0 and len(path) <= len(self.finish):
            path.append(j)
            j = self.binder[j]
        return path


def upward_ranks(
    graph: WorkflowGraph, rules: PlacementRules, optimistic: bool = False
) -> list[float]:
    """Longest path to an exit, by mean (or, optimistic, fastest) duration and mean transfer."""
    cost = []
    for j in range(graph.n):
        agents = rules.eligible[j] or list(range(graph.m))
        times = [graph.duration[i][j] for i in agents]
        cost.append(min(times) if optimistic else sum(times) / len(times))
    rank = [0.0] * graph.n
    for j in reversed(graph.topo):
        tail = 0.0
        for s, e in graph.succs[j]:
            tail = max(tail, graph.mean_transfer(e) + rank[s])
        rank[j] = cost[j] + tail
    return rank


def priority_order(graph: WorkflowGraph, rank: list[float]) -> list[int]:
    """Among ready tasks, the highest rank first (ties by topological position).

    With HEFT's ranks, which never increase along an edge, this is the plain sort by
    decreasing rank; with any other ranks it is still a topological order.
    """
    position = [0] * graph.n
    for k, j in enumerate(graph.topo):
        position[j] = k
    waiting = [len(p) for p in graph.preds]
    ready = [(-rank[j], position[j], j) for j in range(graph.n) if not waiting[j]]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        j = heapq.heappop(ready)[2]
        order.append(j)
        for s, _ in graph.succs[j]:
            waiting[s] -= 1
            if not waiting[s]:
                heapq.heappush(ready, (-rank[s], position[s], s))
    return order


class Timelines:
    """Per agent, the busy intervals sorted by start (and so by finish)."""

    def __init__(self, m: int):
        self.starts: list[list[float]] = [[] for _ in range(m)]
        self.finishes: list[list[float]] = [[] for _ in range(m)]
        self.tasks: list[list[int]] = [[] for _ in range(m)]

    def earliest(self, i: int, ready: float, dur: float) -> tuple[float, int, int]:
        """(start, previous task or -1, slot index) of agent i's first idle gap from `ready`."""
        starts, finishes = self.starts[i], self.finishes[i]
        # Intervals before k end by `ready`; from k on each ends after it, so a gap that
        # is too short moves the candidate start to that interval's end.
        k = bisect_right(finishes, ready)
        begin, count = ready, len(starts)
        while k < count and begin + dur > starts[k]:
            begin = finishes[k]
            k += 1
        previous = self.tasks[i][k - 1] if k > 0 and finishes[k - 1] == begin else -1
        return begin, previous, k

    def add(self, i: int, k: int, begin: float, end: float, j: int) -> None:
        self.starts[i].insert(k, begin)
        self.finishes[i].insert(k, end)
        self.tasks[i].insert(k, j)


def _ready(
    graph: WorkflowGraph, j: int, i: int, agent: list[int], finish: list[float]
) -> tuple[float, int]:
    ready, binder = 0.0, -1
    for p, e in graph.preds[j]:
        t = finish[p] + graph.transfer(e, agent[p], i)
        if t > ready:
            ready, binder = t, p
    return ready, binder


def _place(
    graph: WorkflowGraph,
    lines: Timelines,
    j: int,
    candidates: list[int],
    agent: list[int],
    finish: list[float],
    bias: list[float] | None,
) -> tuple[int, float, int, int]:
    """(agent, start, binder, slot) with the earliest finish (plus `bias`) among `candidates`."""
    best: tuple[float, int, float, int, int] | None = None
    for i in candidates:
        ready, binder = _ready(graph, j, i, agent, finish)
        dur = graph.duration[i][j]
        begin, previous, slot = lines.earliest(i, ready, dur)
        if begin > ready or (begin == ready and previous >= 0 and binder < 0):
            binder = previous
        score = begin + dur if bias is None else begin + dur + bias[i]
        if best is None or score < best[0]:
            best = (score, i, begin, binder, slot)
    assert best is not None
    return best[1], best[2], best[3], best[4]


def list_schedule(
    graph: WorkflowGraph,
    rules: PlacementRules,
    order: list[int],
    bias: list[list[float]] | None = None,
) -> Schedule | None:
    """Place tasks in `order` by earliest finish; None when some task fits no agent
    (or none that its inputs can reach).

    `bias[j][i]`, when given, is added to task j's finish on agent i when choosing
    (PEFT's optimistic cost to the exit). `rules` must start empty; it holds the
    resulting assignment afterwards.
    """
    n = graph.n
    agent, start, finish, binder = [-1] * n, [0.0] * n, [0.0] * n, [-1] * n
    lines = Timelines(graph.m)
    for j in order:
        candidates = rules.allowed(j)
        if not candidates:
            return None
        extra = None if bias is None else bias[j]
        i, begin, binder[j], slot = _place(graph, lines, j, candidates, agent, finish, extra)
        if not math.isfinite(begin):
            return None  # no allowed agent can ever receive its inputs (disconnected nodes)
        rules.add(j, i)
        agent[j], start[j] = i, begin
        finish[j] = begin + graph.duration[i][j]
        lines.add(i, slot, begin, finish[j], j)
    makespan = max(finish) if n else 0.0
    return Schedule(agent, start, finish, binder, list(order), makespan, sum(finish))
