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
  relative speed), must fit in it;
- load windows, with at most `LOAD_CUT_TASKS` (12) tasks left: agent i can fill at most
  the largest subset sum <= T - max(its finish, that start) of the remaining tasks'
  durations there (those that can still end by T on i), so it idles at least the rest;
  those idles, weighted by speed, must fit in the idle budget (the idle cut's room less
  the work left). Where the best schedules idle almost nowhere (30 x 4 at CCR 0.5) the
  budget is tiny and this cuts the subtrees the idle cut only refuted at their leaves
  (CCR 0.5 seed 1: 14.4 to 1.1 CPU s; BENCHMARKS.md, "Workflow proofs (eighth session,
  helper)").
When a schedule of makespan M is found the target drops to M (1 - gap) and the search
goes on; if it ends, no schedule shorter than the final target exists in this
relaxation (allocation rules other than eligibility are ignored), so that target is a
lower bound. On 30 x 4 workflows at CCR 0.5 the idle bound cuts where CP-SAT's
no-overlap and linear reasoning do not (BENCHMARKS.md, "Workflow proofs (seventh
session, helper)").

The search itself is a numba kernel (`exact_kernel.py`, an explicit stack, about 30x
the nodes per second of the recursive Python it replaced, same nodes); this module
builds its arrays, reads the clock between its calls, and bisects (halving the
interval until it is within 0.15 %, then asking just under the best schedule). Each
step's tree may be shared by two threads (`exact_pool.py`, with `helper`).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heads_tails import heads_and_tails

if TYPE_CHECKING:
    from solvers.workflow.exact_pool import Walker

__all__ = ["ExactOutcome", "bisect_makespan", "branch_and_bound"]

#: Nodes per call of the kernel; the clock and `cancel` are read between calls.
_NODES_PER_CALL = 1 << 16
#: `bisect_makespan` stops halving once the bound and the best schedule are this close
#: (relative): on 30 x 4 at CCR 1 seed 3 the refutations at 113.72, 113.75 and 113.77 took
#: 5-7 s each, so only the one at the best schedule less the gap is run (BENCHMARKS.md,
#: "Workflow proofs (eighth session, helper)").
_DESCEND_WITHIN = 1.5e-3


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


class _Search:
    """One workflow's arrays for the kernel (`exact_kernel.search`), built once and reset
    for each target; the search's whole state lives in them."""

    def __init__(self, graph: WorkflowGraph, allowed: list[list[int]], threads: int = 2) -> None:
        n, m = graph.n, graph.m
        duration = np.asarray(graph.duration, dtype=np.float64).reshape(m, n)
        fastest = np.array([min(duration[i, j] for i in allowed[j]) for j in range(n)])
        speed = np.array(
            [
                max((fastest[j] / duration[i, j] for j in range(n) if i in allowed[j]), default=0)
                for i in range(m)
            ],
            dtype=np.float64,
        )
        self.speed_sum = 1.0 + float(speed.sum())
        self.work = float(fastest.sum())
        _, tail = heads_and_tails(graph, allowed, graph.duration, graph.transfer)
        allowed_at = np.zeros((n, m), dtype=np.int64)
        for j, agents in enumerate(allowed):
            allowed_at[j, : len(agents)] = agents
        position = np.zeros(n, dtype=np.int64)
        position[np.asarray(graph.topo, dtype=np.int64)] = np.arange(n)
        pred_ptr, pred = _csr(graph.preds)
        succ_ptr, succ = _csr(graph.succs)
        n_allowed = np.array([len(a) for a in allowed], dtype=np.int64)
        eligible = np.zeros((n, m), dtype=np.int64)
        for j, agents in enumerate(allowed):
            eligible[j, agents] = 1
        self.graph = (
            allowed_at,
            eligible,
            n_allowed,
            position,
            pred_ptr,
            pred[:, 0].copy(),
            pred[:, 1].copy(),
            succ_ptr,
            succ[:, 0].copy(),
        )
        self.times = (
            duration,
            np.asarray(tail, dtype=np.float64).reshape(n, m),
            fastest,
            speed,
            np.asarray(graph.data, dtype=np.float64).reshape(-1),
            np.asarray(graph.per_data, dtype=np.float64).reshape(m, m),
            np.asarray(graph.fixed, dtype=np.float64).reshape(m, m),
        )
        self.indegree = np.diff(pred_ptr)
        self.n, self.m = n, m
        self.target = math.inf  # the last run's final target
        self.walkers: list[Walker] = []  # the threads' kernel arrays, made on the first run
        self.threads = max(1, threads)

    def run(
        self,
        target: float,
        gap: float,
        deadline: float,
        first_only: bool = False,
        cancel: threading.Event | None = None,
        helper: threading.Event | None = None,
    ) -> tuple[bool, tuple[list[int], list[float], float] | None, int]:
        """(ended, best schedule found or None, nodes): ended when the search ended (or,
        with `first_only`, found a schedule) before the deadline and before `cancel` was
        set. The clock is read every `_NODES_PER_CALL` nodes. With `helper`, the other
        threads join the search once it is set (`exact_pool`)."""
        # Imported here: numba loads only when a search runs, not with the CP-SAT engine.
        from solvers.workflow.exact_pool import KernelInput, Walker, run_pool

        if not self.walkers:
            kernel = KernelInput(self.graph, self.times, self.indegree, self.work, self.speed_sum)
            self.walkers = [Walker(kernel) for _ in range(self.threads)]
        out = run_pool(
            self.walkers, target, gap, deadline, first_only, _NODES_PER_CALL, cancel, helper
        )
        self.target = out.target
        return out.ended, out.best, out.nodes


def _csr(rows: list[list[tuple[int, int]]]) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and the rows' (task, edge) pairs stacked, as int64 arrays."""
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = np.array([pair for r in rows for pair in r], dtype=np.int64).reshape(-1, 2)
    return ptr, flat


def branch_and_bound(
    graph: WorkflowGraph,
    allowed: list[list[int]],
    upper: float,
    gap: float,
    deadline: float,
    helper: threading.Event | None = None,
    threads: int = 2,
) -> ExactOutcome | None:
    """Search for schedules of makespan <= upper (1 - gap), each found lowering the target
    to its own makespan (1 - gap), until the search ends or `time.monotonic()` passes
    `deadline`. None when a duration is not positive (start order would not be
    topological) or a task has no allowed agent. With `helper`, `threads` - 1 more
    threads join once it is set."""
    if any(not allowed[j] for j in range(graph.n)):
        return None
    if any(graph.duration[i][j] <= 0 for j in range(graph.n) for i in allowed[j]):
        return None
    search = _Search(graph, allowed, threads)
    complete, found, nodes = search.run(upper * (1 - gap), gap, deadline, helper=helper)
    agent, start, makespan = found if found else (None, None, math.inf)
    lower = search.target if complete else 0.0
    return ExactOutcome(agent, start, makespan, lower, complete, nodes)


def bisect_makespan(
    graph: WorkflowGraph,
    allowed: list[list[int]],
    lower: float,
    upper: float,
    gap: float,
    deadline: float,
    cancel: threading.Event | None = None,
    helper: threading.Event | None = None,
    threads: int = 2,
) -> ExactOutcome | None:
    """Bisect the makespan between a proven `lower` and an achieved `upper`: each step asks
    for a schedule of makespan <= T (first found stops it and becomes the new upper; an
    ended search makes T the new lower), the last at upper (1 - gap). Once the two are
    within `_DESCEND_WITHIN` of the upper it asks for upper (1 - gap) in one pass, each
    schedule found lowering the target to its own makespan (1 - gap): there a refutation
    costs about as much at any target, so only the last is worth running.
    Stops when the two are within `gap` of the upper, at the deadline, or when `cancel`
    is set (the lower reached so far still holds). None as `branch_and_bound`. With
    `helper`, `threads` - 1 more threads join each step's search once it is set.

    From a loose upper the one-pass search wandered (30 x 4, CCR 0.5: no proof in 30 s);
    targets near the optimum cut hard on both sides (refuted or found in 0.1-2 s).
    """
    if any(not allowed[j] for j in range(graph.n)):
        return None
    if any(graph.duration[i][j] <= 0 for j in range(graph.n) for i in allowed[j]):
        return None
    best: tuple[list[int], list[float], float] | None = None
    nodes, complete = 0, upper - lower <= gap * upper
    search = _Search(graph, allowed, threads)
    while not complete:
        top = upper * (1 - gap)
        last = top - lower <= gap * upper or upper - lower <= _DESCEND_WITHIN * upper
        target = top if last else (lower + top) / 2
        # The last steps in one pass: a schedule found lowers the target and the walk goes
        # on (30 x 4, CCR 0.5 seed 2: 15.1 -> 10.0 CPU s against a fresh search per
        # schedule; BENCHMARKS.md, "Workflow proofs (ninth session, helper)").
        one_pass = last
        ended, found, spent = search.run(target, gap, deadline, not one_pass, cancel, helper)
        nodes += spent
        if found is not None:
            best = found
            upper = best[2]
        if not ended:
            break
        if one_pass:  # each schedule found lowered the target: none below the final one
            lower, complete = max(lower, search.target), True
        elif found is None:
            lower, complete = target, last
        else:
            # A refuted target within the gap of the new upper already proves it.
            complete = upper - lower <= gap * upper
    agent, start, makespan = best if best else (None, None, math.inf)
    return ExactOutcome(agent, start, makespan, lower, complete, nodes)


def preload() -> None:
    """Load the kernel (from numba's cache; compiled on the first use after an install)."""
    from models import compile_problem
    from models.generators.workflow import generate_workflow_problem
    from solvers.workflow.graph import build_graph

    graph = build_graph(compile_problem(generate_workflow_problem(4, 2, 1.0, 0)))
    branch_and_bound(graph, [[0, 1]] * graph.n, 1e3, 0.0, time.monotonic() + 60.0)


if __name__ == "__main__":  # `python -m solvers.workflow.exact_search`: compile (install)
    preload()
