"""Depth-first branch and bound over a small workflow's schedules, after Sinnen's exact
search for P|prec,c_ij|Cmax: an exact engine beside CP-SAT.

A schedule is built by adding tasks in the order of their start times (ties by
topological position), each on some allowed agent at its earliest start after that
agent's last task (semi-active). Every schedule can be left-shifted into a semi-active
one no longer than itself, and with positive durations its start order is topological
and puts each agent's tasks in their sequence, so each semi-active schedule is built
exactly once. Branches are cut by:
- tails (`heads_tails`): a task started at s on agent i needs makespan >= s + d + tail,
  and every task not yet placed starts no earlier than the last one added;
- idle time: every task still to add starts no earlier than the last one added, so
  agent i has at most T - max(its finish, that start) left; the work still to do,
  counted as in `load_lower_bound` (fastest durations against each agent's best
  relative speed), must fit in it.
When a schedule of makespan M is found the target drops to M (1 - gap) and the search
goes on; if it ends, no schedule shorter than the final target exists in this
relaxation (allocation rules other than eligibility are ignored), so that target is a
lower bound. On 30 x 4 workflows at CCR 0.5 the idle bound cuts where CP-SAT's
no-overlap and linear reasoning do not (BENCHMARKS.md, "Workflow proofs (seventh
session, helper)").
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heads_tails import heads_and_tails

__all__ = ["ExactOutcome", "bisect_makespan", "branch_and_bound"]

_CLOCK_EVERY = 1024  # nodes between deadline checks


@dataclass
class ExactOutcome:
    """The best schedule found below the starting target (or None), and the proof state.

    `complete`: the search ended, so no schedule of makespan <= `lower_bound` exists
    (with the graph's durations and transfers, eligibility only).
    """

    agent: list[int] | None
    start: list[float] | None
    makespan: float
    lower_bound: float
    complete: bool
    nodes: int


class _Found(Exception):
    """A schedule under the target was found (the feasibility mode stops there)."""


class _Search:
    """The recursive search's state: one partial schedule, changed and undone in place."""

    def __init__(self, graph: WorkflowGraph, allowed: list[list[int]], target: float) -> None:
        self.graph, self.allowed = graph, allowed
        n, m = graph.n, graph.m
        duration = graph.duration
        self.fastest = [min(duration[i][j] for i in allowed[j]) for j in range(n)]
        self.speed = [
            max((self.fastest[j] / duration[i][j] for j in range(n) if i in allowed[j]), default=0)
            for i in range(m)
        ]
        self.speed_sum = 1.0 + sum(self.speed)
        _, self.tail = heads_and_tails(graph, allowed, duration, graph.transfer)
        position = [0] * n
        for k, j in enumerate(graph.topo):
            position[j] = k
        self.position = position
        self.agent, self.start = [-1] * n, [0.0] * n
        self.finish, self.free = [0.0] * n, [0.0] * m
        self.waiting = [len(graph.preds[j]) for j in range(n)]
        # arrival[j][i]: when all of j's inputs can be on agent i (set once j's last
        # predecessor is placed; the predecessors stay put while j is unplaced).
        self.arrival = [[0.0] * m for _ in range(n)]
        self.target, self.tol = target, 1e-9 * max(target, 1.0)
        self.best: tuple[list[int], list[float], float] | None = None
        self.nodes = 0

    def run(
        self,
        gap: float,
        deadline: float,
        first_only: bool = False,
        cancel: threading.Event | None = None,
    ) -> bool:
        """True when the search ended (or, with `first_only`, found a schedule) before
        the deadline and before `cancel` was set."""
        self.gap, self.deadline, self.first_only = gap, deadline, first_only
        self.cancel = cancel
        try:
            self._extend(sum(self.fastest), 0, -1.0, -1)
        except TimeoutError:
            return False
        except _Found:
            return True
        return True

    def _extend(self, work_left: float, placed: int, last_start: float, last_pos: int) -> None:
        self.nodes += 1
        if self.nodes % _CLOCK_EVERY == 0 and (
            time.monotonic() > self.deadline or (self.cancel is not None and self.cancel.is_set())
        ):
            raise TimeoutError
        if placed == self.graph.n:
            self._found()
            return
        if not self._every_task_fits(last_start):
            return
        for s, j, i in self._candidates(work_left, last_start, last_pos):
            if s + self.graph.duration[i][j] + self.tail[j][i] > self.target + self.tol:
                continue  # the target dropped since the candidates were listed
            before = self._place(j, i, s)
            self._extend(work_left - self.fastest[j], placed + 1, s, self.position[j])
            self._unplace(j, i, before)

    def _every_task_fits(self, last_start: float) -> bool:
        """Each unplaced task can still end, tail included, by the target: it starts no
        earlier than the last start, its agent's free time and (once ready) its inputs'
        arrival there. Cut 33 % of the nodes on a 30 x 4 CCR 0.5 workflow, 20 % of the time."""
        free, duration, limit = self.free, self.graph.duration, self.target + self.tol
        for q in range(self.graph.n):
            if self.agent[q] >= 0:
                continue
            arrival = None if self.waiting[q] else self.arrival[q]
            for a in self.allowed[q]:
                start = free[a] if free[a] > last_start else last_start
                if arrival is not None and arrival[a] > start:
                    start = arrival[a]
                if start + duration[a][q] + self.tail[q][a] <= limit:
                    break
            else:
                return False
        return True

    def _candidates(
        self, work_left: float, last_start: float, last_pos: int
    ) -> list[tuple[float, int, int]]:
        """(start, task, agent) of every child that passes the cuts, earliest finish first."""
        g, free, target, tol = self.graph, self.free, self.target, self.tol
        agent, speed, duration = self.agent, self.speed, g.duration
        slack = tol * self.speed_sum
        out: list[tuple[float, int, int, float]] = []
        for j in range(g.n):
            if agent[j] >= 0 or self.waiting[j]:
                continue
            work_after = work_left - self.fastest[j]
            arrival = self.arrival[j]
            for i in self.allowed[j]:
                s = free[i] if free[i] > arrival[i] else arrival[i]
                if s < last_start or (s == last_start and self.position[j] < last_pos):
                    continue  # built in start order: this schedule comes from another branch
                end = s + duration[i][j]
                if end + self.tail[j][i] > target + tol:
                    continue
                room = speed[i] * (target - end)
                for a, r in enumerate(speed):
                    if a != i:
                        room += r * (target - (free[a] if free[a] > s else s))
                if work_after > room + slack:
                    continue
                out.append((end, j, i, s))
        out.sort()
        return [(s, j, i) for _, j, i, s in out]

    def _place(self, j: int, i: int, s: float) -> float:
        """Put j on i at s; returns i's free time before, for `_unplace`."""
        self.agent[j], self.start[j] = i, s
        self.finish[j] = s + self.graph.duration[i][j]
        before, self.free[i] = self.free[i], self.finish[j]
        for q, _ in self.graph.succs[j]:
            self.waiting[q] -= 1
            if not self.waiting[q]:
                self._arrive(q)
        return before

    def _arrive(self, j: int) -> None:
        """Fill arrival[j] from its (all placed) predecessors (`graph.transfer` inlined)."""
        g, agent, finish, arrival = self.graph, self.agent, self.finish, self.arrival[j]
        data, per_data, fixed = g.data, g.per_data, g.fixed
        for i in self.allowed[j]:
            t = 0.0
            for p, e in g.preds[j]:
                a = agent[p]
                arrive = finish[p] if a == i else finish[p] + data[e] * per_data[a][i] + fixed[a][i]
                if arrive > t:
                    t = arrive
            arrival[i] = t

    def _unplace(self, j: int, i: int, before: float) -> None:
        self.free[i] = before
        self.agent[j] = -1
        for q, _ in self.graph.succs[j]:
            self.waiting[q] += 1

    def _found(self) -> None:
        makespan = max(self.finish)
        if self.best is None or makespan < self.best[2]:
            self.best = (list(self.agent), list(self.start), makespan)
            self.target = min(self.target, makespan * (1 - self.gap))
        if self.first_only:
            raise _Found


def branch_and_bound(
    graph: WorkflowGraph,
    allowed: list[list[int]],
    upper: float,
    gap: float,
    deadline: float,
) -> ExactOutcome | None:
    """Search for schedules of makespan <= upper (1 - gap), each found lowering the target
    to its own makespan (1 - gap), until the search ends or `time.monotonic()` passes
    `deadline`. None when a duration is not positive (start order would not be
    topological) or a task has no allowed agent."""
    if any(not allowed[j] for j in range(graph.n)):
        return None
    if any(graph.duration[i][j] <= 0 for j in range(graph.n) for i in allowed[j]):
        return None
    search = _Search(graph, allowed, upper * (1 - gap))
    complete = search.run(gap, deadline)
    agent, start, makespan = search.best if search.best else (None, None, math.inf)
    lower = search.target if complete else 0.0
    return ExactOutcome(agent, start, makespan, lower, complete, search.nodes)


def bisect_makespan(
    graph: WorkflowGraph,
    allowed: list[list[int]],
    lower: float,
    upper: float,
    gap: float,
    deadline: float,
    cancel: threading.Event | None = None,
) -> ExactOutcome | None:
    """Bisect the makespan between a proven `lower` and an achieved `upper`: each step asks
        for a schedule of makespan <= T (first found stops it and becomes the new upper;
        an ended search makes T the new lower), the last at upper (1 - gap). Stops when the
        two are within `gap` of the upper, at the deadline, or when `cancel` is set (the
    lower reached so far still holds). None as `branch_and_bound`.

        From a loose upper the one-pass search wandered (30 x 4, CCR 0.5: no proof in 30 s);
        targets near the optimum cut hard on both sides (refuted or found in 0.1-2 s).
    """
    if any(not allowed[j] for j in range(graph.n)):
        return None
    if any(graph.duration[i][j] <= 0 for j in range(graph.n) for i in allowed[j]):
        return None
    best: tuple[list[int], list[float], float] | None = None
    nodes, complete = 0, upper - lower <= gap * upper
    while not complete:
        top = upper * (1 - gap)
        last = top - lower <= gap * upper
        target = top if last else (lower + top) / 2
        search = _Search(graph, allowed, target)
        ended = search.run(gap, deadline, first_only=True, cancel=cancel)
        nodes += search.nodes
        if not ended:
            break
        if search.best is None:
            lower, complete = target, last
        else:
            best = search.best
            upper = best[2]
    agent, start, makespan = best if best else (None, None, math.inf)
    return ExactOutcome(agent, start, makespan, lower, complete, nodes)
