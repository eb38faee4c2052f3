"""Threads sharing one run of the workflow exact search (`exact_kernel.search`).

The tree is handed out as subtrees, each named by its path (the placements from the
empty schedule to its root). A thread walks its subtree in node budgets; between two
budgets, when another thread is waiting for work, it hands over the unexplored
siblings at the shallowest level of its own walk (each becomes a path of its own) and
stops exploring them. So every subtree is walked by exactly one thread, and a target is
refuted only when every subtree handed out has ended with the queue empty. A thread may
join late (`helper`: when CP-SAT's cores come free); one thread alone walks the tree in
the order of the serial search. The kernel releases the GIL; the hand-over is Python.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from solvers.workflow.exact_kernel import (
    BEST,
    DEPTH,
    ENDED,
    FOUND,
    FOUND_ANY,
    FRESH,
    NODES,
    ROOT,
    TARGET,
    search,
)

__all__ = ["KernelInput", "PoolOutcome", "Walker", "run_pool"]

#: A subtree's root: the (task, agent, start) placed at each level above it.
Path = tuple[tuple[int, int, float], ...]


@dataclass(frozen=True)
class KernelInput:
    """A workflow's read-only arrays for the kernel, shared by every thread."""

    graph: tuple[np.ndarray, ...]
    times: tuple[np.ndarray, ...]
    indegree: np.ndarray
    work: float  # the fastest durations summed: work left at the root
    speed_sum: float


class Walker:
    """One thread's search state (the kernel's arrays), loaded with one subtree at a time."""

    def __init__(self, kernel: KernelInput) -> None:
        n, m = kernel.indegree.shape[0], kernel.times[0].shape[0]
        width = max(1, n * m)
        self.kernel, self.n = kernel, n
        self.state = (
            np.full(n, -1, dtype=np.int64),
            np.zeros(n),
            np.zeros(n),
            np.zeros(m),
            kernel.indegree.copy(),
            np.zeros((n, m)),
        )
        self.stack = (
            np.zeros((n, width)),
            np.zeros((n, width), dtype=np.int64),
            np.zeros((n, width), dtype=np.int64),
            np.zeros((n, width)),
            np.zeros(n + 1, dtype=np.int64),
            np.zeros(n + 1, dtype=np.int64),
            np.zeros(n + 1),
            np.full(n + 1, -1.0),
            np.full(n + 1, -1, dtype=np.int64),
            np.full(n + 1, kernel.work),
        )
        self.best = (np.full(n, -1, dtype=np.int64), np.zeros(n))
        self.counters = np.zeros(6, dtype=np.int64)
        self.scalars = np.zeros(5)

    def reset(self, target: float, gap: float) -> None:
        """Forget the last run: no schedule found, no nodes counted."""
        self.counters[:] = 0
        self.scalars[:] = (target, 1e-9 * max(target, 1.0), gap, np.inf, self.kernel.speed_sum)

    def load(self, path: Path) -> None:
        """Start on the subtree under `path`: its placements prepared one per level."""
        agent, start, finish, free, waiting, _arrival = self.state
        agent[:], start[:], finish[:], free[:] = -1, 0.0, 0.0, 0.0
        waiting[:] = self.kernel.indegree
        cand_s, cand_j, cand_i, _end, count, idx = self.stack[:6]
        for level, (j, i, s) in enumerate(path):
            cand_s[level, 0], cand_j[level, 0], cand_i[level, 0] = s, j, i
            count[level], idx[level] = 1, 0
        self.counters[DEPTH], self.counters[ROOT] = 0, len(path)
        self.counters[FRESH] = 0 if path else 1

    def step(self, budget: int, first_only: bool) -> int:
        """About `budget` nodes more; the kernel's BUDGET_SPENT, ENDED or FOUND."""
        k = self.kernel
        return int(
            search(
                k.graph,
                k.times,
                self.state,
                self.stack,
                self.best,
                self.counters,
                self.scalars,
                budget,
                first_only,
            )
        )

    def split(self) -> list[Path]:
        """Hand over the unexplored siblings at the shallowest level that has some (the
        largest subtrees left), keeping one when that level is the current one."""
        cand_s, cand_j, cand_i, _end, count, idx = self.stack[:6]
        depth, root = int(self.counters[DEPTH]), int(self.counters[ROOT])
        for level in range(root, min(depth, self.n - 1) + 1):
            first = int(idx[level]) + (1 if level == depth else 0)
            if first >= count[level]:
                continue
            prefix = tuple(
                (
                    int(cand_j[x, idx[x] - 1]),
                    int(cand_i[x, idx[x] - 1]),
                    float(cand_s[x, idx[x] - 1]),
                )
                for x in range(level)
            )
            given = [
                (*prefix, (int(cand_j[level, k]), int(cand_i[level, k]), float(cand_s[level, k])))
                for k in range(first, int(count[level]))
            ]
            count[level] = first
            return given
        return []

    def schedule(self) -> tuple[list[int], list[float], float] | None:
        if not self.counters[FOUND_ANY]:
            return None
        return self.best[0].tolist(), self.best[1].tolist(), float(self.scalars[BEST])


@dataclass
class PoolOutcome:
    """`ended`: every subtree ended (or, first_only, a schedule was found) in time."""

    ended: bool
    best: tuple[list[int], list[float], float] | None
    nodes: int
    target: float  # the final target (lowered by the schedules found)


class _Pool:
    def __init__(self, target: float, stop_early: Callable[[], bool]) -> None:
        self.cond = threading.Condition()
        self.queue: list[Path] = [()]
        self.busy = self.hungry = 0
        self.stopped = self.found = self.timed_out = False
        self.target = target
        self.stop_early = stop_early

    def take(self) -> Path | None:
        """The next subtree, or None when the run is over (all ended, found or stopped)."""
        with self.cond:
            while not self.queue and self.busy > 0 and not self.stopped:
                self.hungry += 1
                self.cond.wait(0.02)
                self.hungry -= 1
                if self.stop_early():
                    self.stopped = self.timed_out = True
            if self.stopped or not self.queue:
                self.cond.notify_all()
                return None
            self.busy += 1
            return self.queue.pop()

    def walk(self, walker: Walker, path: Path, budget: int, first_only: bool) -> None:
        walker.load(path)
        while not self.stopped:
            walker.scalars[TARGET] = min(walker.scalars[TARGET], self.target)
            status = walker.step(budget, first_only)
            with self.cond:
                self.target = min(self.target, float(walker.scalars[TARGET]))
            if status == FOUND:
                with self.cond:
                    self.stopped = self.found = True
                break
            if status == ENDED:
                break
            if self.stop_early():
                with self.cond:
                    self.stopped = self.timed_out = True
                break
            if self.hungry and not self.queue:
                given = walker.split()
                if given:
                    with self.cond:
                        self.queue.extend(reversed(given))  # popped in the serial order
                        self.cond.notify_all()
        with self.cond:
            self.busy -= 1
            self.cond.notify_all()

    def serve(self, walker: Walker, budget: int, first_only: bool) -> None:
        while (path := self.take()) is not None:
            self.walk(walker, path, budget, first_only)


def run_pool(
    walkers: list[Walker],
    target: float,
    gap: float,
    deadline: float,
    first_only: bool,
    budget: int,
    cancel: threading.Event | None = None,
    helper: threading.Event | None = None,
) -> PoolOutcome:
    """Search for schedules of makespan <= target: the calling thread walks with
    walkers[0]; with `helper`, a thread per further walker joins once `helper` is set.
    Stops at the first schedule (`first_only`), when every subtree ended, at the deadline
    (`time.monotonic()`, read between budgets) or when `cancel` is set. That thread is
    joined before this returns."""

    def stop_early() -> bool:
        return time.monotonic() > deadline or (cancel is not None and cancel.is_set())

    pool = _Pool(target, stop_early)
    for walker in walkers:
        walker.reset(target, gap)
    joiners = []
    if helper is not None:

        def join_when_free(walker: Walker) -> None:
            while not helper.wait(0.02):
                if pool.stopped or (not pool.queue and pool.busy == 0) or stop_early():
                    return
            pool.serve(walker, budget, first_only)

        for k, walker in enumerate(walkers[1:], start=2):
            name = f"workflow-exact-{k}"
            joiners.append(threading.Thread(target=join_when_free, args=(walker,), name=name))
            joiners[-1].start()
    try:
        pool.serve(walkers[0], budget, first_only)
    except BaseException:
        pool.stopped = pool.timed_out = True  # the other threads stop at their next budget
        raise
    finally:
        for joiner in joiners:
            joiner.join()
    found = [s for s in (w.schedule() for w in walkers) if s is not None]
    best = min(found, key=lambda s: s[2], default=None)
    ended = pool.found or not pool.timed_out
    nodes = sum(int(w.counters[NODES]) for w in walkers)
    return PoolOutcome(ended, best, nodes, pool.target)
