"""Heads and tails per (task, agent) in the CP-SAT model's integer units, as redundant
linear constraints that the model's linear relaxation does not find on its own.

head[j][i]: the earliest start of task j if it runs on agent i; tail[j][i]: the least
time from its end to the makespan. Each predecessor either shares agent i (it ends by
its own head + duration there, and all such predecessors run one after another on i)
or runs elsewhere (its earliest end anywhere else plus that transfer); the head is the
best case over those choices. Tails mirror this over successors. Both follow from the
model's own constraints (integer durations, transfers, no overlap per agent), so adding
`start[j] >= sum_i head[j][i] * use[j, i]` and `makespan >= end[j] + sum_i tail[j][i] *
use[j, i]` keeps every model schedule, and with it the model's optimum and bound.
Measured on 30 x 4 workflows at CCR 1: the same proofs with less search (BENCHMARKS.md,
"Issue 15, workflow proofs, fourth pass").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from solvers.workflow.cpsat_model import ScheduleModel
from solvers.workflow.graph import WorkflowGraph

__all__ = ["add_heads_and_tails", "heads_and_tails"]

#: (other task, its key on this agent, its duration on this agent or None when it may
#: not run here, its earliest arrival from any other agent)
_Neighbour = tuple[int, float, float | None, float]


def heads_and_tails(
    graph: WorkflowGraph,
    allowed: list[list[int]],
    duration: Sequence[Sequence[float]],
    transfer: Callable[[int, int, int], float],
) -> tuple[list[list[float]], list[list[float]]]:
    """(head, tail), each [task][agent], inf where the agent is not allowed.

    `duration[i][j]` and `transfer(edge, from_agent, to_agent)` in model units (inf
    when the two agents cannot exchange).
    """
    n, m = graph.n, graph.m
    head = [[math.inf] * m for _ in range(n)]
    for j in graph.topo:
        for i in allowed[j]:
            preds: list[_Neighbour] = []
            for p, e in graph.preds[j]:
                local = duration[i][p] if i in allowed[p] else None
                remote = min(
                    (head[p][b] + duration[b][p] + transfer(e, b, i) for b in allowed[p] if b != i),
                    default=math.inf,
                )
                preds.append((p, head[p][i], local, remote))
            head[j][i] = _earliest(preds)
    tail = [[math.inf] * m for _ in range(n)]
    for j in reversed(graph.topo):
        for i in allowed[j]:
            succs: list[_Neighbour] = []
            for s, e in graph.succs[j]:
                local = duration[i][s] if i in allowed[s] else None
                remote = min(
                    (transfer(e, i, b) + duration[b][s] + tail[s][b] for b in allowed[s] if b != i),
                    default=math.inf,
                )
                succs.append((s, tail[s][i], local, remote))
            tail[j][i] = _earliest(succs)
    return head, tail


def _earliest(neighbours: list[_Neighbour]) -> float:
    """min over which neighbours share the agent of max(remote arrivals, local finish).

    The local ones run one after another, none before its key: they finish no earlier
    than Jackson's bound (`_serial`), which only grows as the local set grows, so the
    best local set is the k with the latest remote arrivals, for some k.
    """
    forced = max((r for _, _, d, r in neighbours if d is None), default=0.0)
    free = sorted((x for x in neighbours if x[2] is not None), key=lambda x: -x[3])
    best = math.inf
    for k in range(len(free) + 1):
        remote = free[k][3] if k < len(free) else 0.0
        local = _serial([(key, d) for _, key, d, _ in free[:k] if d is not None])
        best = min(best, max(forced, remote, local))
    return best


def _serial(jobs: list[tuple[float, float]]) -> float:
    """Least finish of (release, duration) jobs run one at a time: the largest, over
    releases r, of r plus the durations of the jobs released at r or later."""
    finish, busy = 0.0, 0.0
    for release, d in sorted(jobs, reverse=True):
        busy += d
        finish = max(finish, release + busy)
    return finish


def add_heads_and_tails(out: ScheduleModel, graph: WorkflowGraph, allowed: list[list[int]]) -> None:
    """The redundant constraints on `out`, built over `graph` (the model's own graph)."""
    duration = [[out.units(graph.duration[i][j]) for j in range(graph.n)] for i in range(graph.m)]

    def transfer(e: int, a: int, b: int) -> float:
        delay = graph.transfer(e, a, b)
        return out.units(delay) if math.isfinite(delay) else math.inf

    head, tail = heads_and_tails(graph, allowed, duration, transfer)
    for j in range(graph.n):
        heads = [(int(head[j][i]), out.use[j, i]) for i in allowed[j] if math.isfinite(head[j][i])]
        tails = [(int(tail[j][i]), out.use[j, i]) for i in allowed[j] if math.isfinite(tail[j][i])]
        # An agent whose head is infinite cannot take the task in any model schedule.
        for i in allowed[j]:
            if not (math.isfinite(head[j][i]) and math.isfinite(tail[j][i])):
                out.model.add(out.use[j, i] == 0)
        if any(h for h, _ in heads):
            out.model.add(out.start[j] >= sum(h * b for h, b in heads))
        if any(t for t, _ in tails):
            out.model.add(out.makespan >= out.end[j] + sum(t * b for t, b in tails))
