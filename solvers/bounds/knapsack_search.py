"""Exact search over the knapsack Lagrangian relaxation: depth-first branch and bound,
deepened level by level on the objective.

Each node fixes some tasks to agents; its bound is the knapsack Lagrangian of the free
tasks (`knapsack_kernel.knapsacks`, the agents' residual capacities) climbed for a few
subgradient steps from its parent's multipliers. A node whose bound shows that no plan
below the current limit lies under it is cut; a node whose relaxation packs every free
task exactly once holds a plan scoring exactly its bound (so the best under it), as does
a leaf (every task fixed). Such plans go to `offer`, checked against the whole problem:
the relaxation keeps one resource per agent and ignores every other rule, so a plan may
fail that check; the search then branches on, which is still exact.

The limit is deepened one unit per level: level k looks only for plans below `lb + 1`,
where `lb` is the bound the levels before proved (the root bound at first). At the
root every pair whose forced penalty lifts the bound to the limit is removed, so the
first levels search a small model. A level searched to the end without a plan proves
that no plan lies below its limit: the bound rises to it. A level that finds a plan ends
the search with that plan proven optimal. The limit never exceeds the best plan known
(`incumbent`, e.g. the LNS's), so a level that ends there proves that plan optimal.

Integer plan scores only (classic GAP costs): a node is cut when its bound exceeds the
limit minus one. Why hand-written: no library offers a Lagrangian branch and bound;
the general MIP solvers (HiGHS, CP-SAT) search with the LP bound, which on these models
is several times weaker (e20100: plain HiGHS has not proven it in 10 s, and needs about
7 s on the 431 of 2,000 pairs left at the optimum's penalty threshold; this search
proves it in under a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models import CompiledProblem
from solvers.bounds.knapsack_bound import KnapsackDual, units_for
from solvers.bounds.lagrangian import integral_scores, pair_costs

__all__ = ["SearchOutcome", "search_levels"]

#: Subgradient steps per node, from its parent's multipliers.
NODE_STEPS = 10
#: Steps without a better node bound before the step length halves.
STALL_STEPS = 3
#: How the levels' times are foreseen (see `level_budget`).
FIRST_LEVEL_SHARE = 0.3
FIRST_GROWTH = 4.0
MIN_GROWTH = 2.0
MAX_GROWTH = 10.0
GIVE_UP_FACTOR = 8.0
#: Expected seconds of a level at least (a few ms is no basis to give up on).
MIN_LEVEL_S = 0.2
#: Slack on float sums of integer costs.
_TOL = 1e-6


@dataclass
class SearchOutcome:
    """What the search established: `bound` (no plan scores below it) and, when
    `proven`, that the best plan known scores exactly `bound`."""

    bound: float
    proven: bool
    nodes: int
    levels: int
    seconds: float
    gave_up: str | None = None  # why it stopped before a proof, when not told to

    def method(self) -> str:
        return (
            f"knapsack branch and bound ({self.levels} level(s), {self.nodes:,} nodes, "
            f"{self.seconds:.2f} s)"
        )


def search_levels(
    problem: CompiledProblem,
    dual: KnapsackDual,
    incumbent: Callable[[], float],
    offer: Callable[[np.ndarray], float | None],
    on_bound: Callable[[SearchOutcome], None],
    stop: Callable[[], bool],
    deadline: float = np.inf,
) -> SearchOutcome | None:
    """Deepen the search level by level until a proof, `stop()`, or a level it does not
    expect to finish by `deadline` (perf_counter; see `level_budget`); None when it does
    not apply (scaled-out units, non-integer scores, no penalties). `offer(plan)` checks
    a leaf's plan and returns its score (None: not a plan); `on_bound` hears each proven
    rise. `dual` must carry its penalties."""
    units = units_for(problem)
    if units is None or dual.penalties is None or problem.allow_unassigned:
        return None
    if not integral_scores(problem):
        return None
    search = _Search(problem, dual, units, incumbent, offer, stop)
    lb = float(np.ceil(dual.bound - _TOL))
    outcome = SearchOutcome(lb, False, 0, 0, 0.0)
    level_s: list[float] = []
    while not stop():
        known = incumbent()
        if known <= lb + _TOL:
            outcome.proven = True  # the bound has reached the best plan known
            break
        limit = min(lb + 1, known)
        began = time.thread_time()
        budget = level_budget(level_s, deadline - time.perf_counter())
        if budget is None:
            outcome.gave_up = "its next level would not end in time"
            break
        finished = search.level(limit, began + budget)
        level_s.append(time.thread_time() - began)
        outcome.levels += 1
        outcome.nodes, outcome.seconds = search.nodes, time.perf_counter() - search.began
        if not finished:
            if not stop():
                outcome.gave_up = (
                    f"a level ran past {GIVE_UP_FACTOR:g} x its expected time or the deadline"
                )
            break
        # Searched to the end: no plan below the final limit but the ones it offered.
        lb = min(limit, search.limit)
        outcome.bound = lb
        on_bound(outcome)
        if search.limit < limit or limit >= known:
            outcome.proven = True  # its plan (or the incumbent) is at the bound
            break
    return outcome


def level_budget(level_s: list[float], left: float) -> float | None:
    """Seconds of this thread's CPU time the next level may take (None: do not start
    it), from `level_s`, the CPU seconds of the levels so far, and `left`, the wall
    seconds to the deadline. Levels grow about geometrically (d20100: 0.2, 0.6, then
    over 30 s), so the next one is expected to take the last one's time times the last
    growth (between `MIN_GROWTH` and `MAX_GROWTH`, or `FIRST_GROWTH` after one level;
    `MIN_LEVEL_S` at least). A level expected to run past the deadline is not started, and one past
    `GIVE_UP_FACTOR` times its expected time (or the time left) is given up: its core
    goes back to whoever runs beside. The first level may use `FIRST_LEVEL_SHARE` of the
    time left. CPU time, not wall time: beside other solvers on shared cores (the
    portfolio) the wall time of a level doubled and more, and levels that would have
    ended were given up."""
    if not level_s:
        return FIRST_LEVEL_SHARE * left
    growth = FIRST_GROWTH if len(level_s) == 1 else level_s[-1] / max(level_s[-2], 1e-3)
    expected = max(level_s[-1] * min(max(MIN_GROWTH, growth), MAX_GROWTH), MIN_LEVEL_S)
    if expected > left:
        return None
    return min(GIVE_UP_FACTOR * expected, left)


class _Search:
    """The depth-first tree of one problem; `level` searches below a limit."""

    def __init__(
        self,
        problem: CompiledProblem,
        dual: KnapsackDual,
        units: tuple[np.ndarray, np.ndarray],
        incumbent: Callable[[], float],
        offer: Callable[[np.ndarray], float | None],
        stop: Callable[[], bool],
    ):
        self.weight, self.cap = units
        cost = pair_costs(problem)[0]
        self.cost = np.ascontiguousarray(cost, dtype=np.float64)
        self.dual, self.incumbent, self.offer, self.stop = dual, incumbent, offer, stop
        assert dual.penalties is not None
        self.penalties = dual.penalties
        n = problem.n_tasks
        self.cover = np.zeros(n, dtype=np.int64)
        self.owner = np.zeros(n, dtype=np.int64)  # the agent packing each task
        self.keep = np.empty((n, int(self.cap.max(initial=0)) + 1), dtype=np.bool_)
        self.without = np.empty(problem.n_agents)  # task_forced's outputs
        self.with_ = np.empty(problem.n_agents)
        self.nodes = 0
        self.limit = np.inf  # plans must score below this (the level's, lowered by plans)
        self.began = time.perf_counter()

    def level(self, limit: float, give_up: float = np.inf) -> bool:
        """Search for plans scoring below `limit`; True when searched to the end, False
        when stopped or past `give_up` (this thread's `time.thread_time`)."""
        self.limit = limit
        allowed = self.penalties <= limit - 1 - self.dual.bound + _TOL
        c = np.where(allowed, self.cost, np.inf)  # fixed tasks' columns become inf
        cap = self.cap.copy()
        free = np.ones(c.shape[1], dtype=np.bool_)
        assign = np.full(c.shape[1], -1, dtype=np.int32)
        fixed_cost = 0.0
        u = self.dual.multipliers.copy()
        frames: list[_Frame] = []
        descend = True
        while True:
            if descend:
                self.nodes += 1
                if self.stop() or time.thread_time() > give_up:
                    return False
                frame = self._node(c, cap, fixed_cost, free, assign, u)
                if frame is not None:
                    frames.append(frame)
            descend = False
            while frames:
                f = frames[-1]
                j = f.task
                if f.next > 0:  # undo the previous child
                    i = f.agents[f.next - 1]
                    c[:, j] = f.column
                    if cap[i] >= 0:
                        cap[i] += self.weight[i, j]
                    free[j], assign[j] = True, -1
                    fixed_cost -= self.cost[i, j]
                if f.next < len(f.agents):
                    i = f.agents[f.next]
                    f.next += 1
                    c[:, j] = np.inf
                    if cap[i] >= 0:
                        cap[i] -= self.weight[i, j]
                    free[j], assign[j] = False, i
                    fixed_cost += self.cost[i, j]
                    u = f.multipliers.copy()
                    descend = True
                    break
                frames.pop()
            if not descend:
                return True

    def _node(
        self,
        c: np.ndarray,
        cap: np.ndarray,
        fixed_cost: float,
        free: np.ndarray,
        assign: np.ndarray,
        u: np.ndarray,
    ) -> _Frame | None:
        """Bound the node; None when it is cut or solved, else its branching frame."""
        from solvers.bounds.knapsack_kernel import knapsacks, task_forced

        self.limit = min(self.limit, self.incumbent())
        if not free.any():
            score = self.offer(assign.copy())
            if score is not None and score < self.limit - _TOL:
                self.limit = score
            return None
        best, best_u, best_cover = -np.inf, u, self.cover
        step, stall = 1.0, 0
        for _ in range(NODE_STEPS):
            mu = np.where(free, u, 0.0)
            packed = knapsacks(c, self.weight, cap, mu, self.cover, self.owner, self.keep)
            value = fixed_cost + mu.sum() - packed
            if value > best + 1e-9:
                best, best_u, best_cover, stall = value, u.copy(), self.cover.copy(), 0
            else:
                stall += 1
                if stall >= STALL_STEPS:
                    step, stall = step / 2, 0
            if best > self.limit - 1 + _TOL:
                return None  # nothing below the limit under this node
            g = np.where(free, 1 - self.cover, 0)
            norm = float(g @ g)
            if norm == 0:
                # Each free task packed once: a plan scoring exactly this node's bound,
                # so the best under the node, unless the whole problem's rules reject it.
                plan = np.where(free, self.owner, assign).astype(np.int32)
                score = self.offer(plan)
                if score is not None:
                    self.limit = min(self.limit, score)
                    return None
                break
            u = u + step * (self.limit - value) / norm * g
        # Branch on a task the relaxation leaves uncovered or covers twice (any free
        # task when it covers each once), the one with the fewest agents left; its
        # children are bounded at once at this node's multipliers (`task_forced`), the
        # ones that cannot hold a plan below the limit dropped, the rest tried best first.
        candidates = np.flatnonzero(free & (best_cover != 1))
        if candidates.size == 0:
            candidates = np.flatnonzero(free)
        room = np.where(cap < 0, np.iinfo(np.int64).max, cap)
        fits = np.isfinite(c[:, candidates]) & (self.weight[:, candidates] <= room[:, None])
        j = int(candidates[np.argmin(fits.sum(axis=0))])
        mu = np.where(free, best_u, 0.0)
        task_forced(c, self.weight, cap, mu, j, self.without, self.with_)
        child = fixed_cost + mu.sum() - (self.without.sum() - self.without + self.with_)
        agents = np.flatnonzero(child <= self.limit - 1 + _TOL)
        if agents.size == 0:
            return None
        agents = agents[np.argsort(child[agents], kind="stable")]
        return _Frame(j, agents, 0, c[:, j].copy(), best_u)


@dataclass
class _Frame:
    """A branching node: its task, the agents tried in order, the next one's index, the
    task's column of costs before it was fixed, and the node's best multipliers."""

    task: int
    agents: np.ndarray
    next: int
    column: np.ndarray
    multipliers: np.ndarray
