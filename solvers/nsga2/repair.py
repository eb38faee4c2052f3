"""Batched capacity repair for a numpy population (int[P, n], gene = agent index).

Uniform crossover of two well-packed parents overloads some agent in almost
every child (97% of children on the benchmark), so repair runs every generation
and has to be a handful of array operations, not a loop over plans or agents.

`move` (the per-generation path) starts from a parent whose loads are known:
the changed genes leave their agents, go to their proposed agent where the
running total fits, else back to their old agent, else through the insertion
below. A child of feasible parents needs no eviction at all.

`fix_overloads` (initial population, infeasible parents, co-location problems):
1. evict: on every overloaded (plan, agent) at once, a segmented prefix sum over
   its tasks (cheapest to move first, with noise) picks just enough tasks to
   clear the excess in every dimension and the task-count limit;
2. insert, in waves: each evicted task scores every agent (fits first, then a
   per-plan mix of low cost and headroom, so the children spread along the
   cost/balance trade-off) and goes to its best; several tasks of one plan
   aiming at one agent are accepted only while their prefix sum still fits,
   the rest retry in the next wave against the updated loads.

Loads are kept in units of capacity (usage / capacity), so one tolerance serves
every dimension. Plans still overloaded after the rounds stay so; selection
ranks them behind every feasible plan.

Names: a "move" is one (plan, task, agent) triple, held as three aligned arrays
`plans`, `tasks`, `agents`; a "cell" is one (plan, agent) pair, numbered
plan * m + agent, which is how loads are stored flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.compiled import CompiledProblem

__all__ = ["CapacityRepair"]

_ROUNDS = 3  # evict-and-insert rounds (each only on the plans still overloaded)
_WAVES = 3  # insertion waves per round
_EPS = 1e-9


def _segment_starts(keys: np.ndarray) -> np.ndarray:
    """For sorted keys, the index of the first element of each element's run."""
    first = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    index = np.arange(len(keys))
    return np.maximum.accumulate(np.where(first, index, 0))


def _running_totals(values: np.ndarray, starts: np.ndarray, *, inclusive: bool) -> np.ndarray:
    """Prefix sums of values (rows) restarted at each run's start, with or without
    each row's own value."""
    cumulative = np.cumsum(values, axis=0)
    offset = cumulative[starts] - values[starts]
    return (cumulative if inclusive else cumulative - values) - offset


def _cost01(p: CompiledProblem) -> np.ndarray:
    """float[m, n] cost scaled to [0, 1] per task over its eligible agents (1 elsewhere).

    One scale for every task, so cost and headroom (also in [0, 1]) can be mixed.
    """
    cost = np.where(p.eligible, p.cost.astype(np.float64), np.inf)
    lo = cost.min(axis=0)
    hi = np.where(p.eligible, cost, -np.inf).max(axis=0)
    lo, hi = np.where(np.isfinite(lo), lo, 0.0), np.where(np.isfinite(hi), hi, 0.0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.where(p.eligible, (cost - lo) / span, 1.0)


def _move_cost01(cost01: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """float[m, n] in [0, 1]: what moving each task off each agent costs at least
    (its best other agent's scaled cost minus this one's)."""
    ranked = np.sort(np.where(eligible, cost01, np.inf), axis=0)
    cheapest, runner_up = ranked[0], ranked[min(1, len(ranked) - 1)]
    best_other = np.where(cost01 > cheapest, cheapest, runner_up)
    return np.clip(np.nan_to_num(best_other - cost01, posinf=1.0), 0.0, 1.0)


@dataclass
class _Plans:
    """Some plans with their loads: genes int[P, n], usage float[P, m, d], counts int[P, m]."""

    genes: np.ndarray
    usage: np.ndarray
    counts: np.ndarray

    def rows(self, rows: np.ndarray) -> _Plans:
        """A copy of plans `rows` (write it back with `put`)."""
        return _Plans(self.genes[rows], self.usage[rows], self.counts[rows])

    def put(self, rows: np.ndarray, part: _Plans) -> None:
        self.genes[rows], self.usage[rows], self.counts[rows] = (
            part.genes,
            part.usage,
            part.counts,
        )


class CapacityRepair:
    """Moves tasks off overloaded agents for a whole population at once."""

    def __init__(self, problem: CompiledProblem, rng: np.random.Generator):
        p = problem
        self.rng = rng
        self.m, self.n, self.d = p.n_agents, p.n_tasks, p.n_dims
        self.task_index = np.arange(self.n)
        cap = p.capacity.astype(np.float64)
        cap_safe = np.where(cap > 0, cap, 1.0)
        self.limit = cap / cap_safe  # 1 per dimension, 0 where an agent has none
        self.share = p.usage.astype(np.float64) / cap_safe[:, None, :]  # (m, n, d)
        self.share_of_pair = self.share.reshape(self.m * self.n, self.d)  # row agent * n + task
        self.eligible_of_pair = p.eligible.ravel()
        self.eligible_by_task = np.ascontiguousarray(p.eligible.T)  # (n, m)
        self.max_tasks = p.max_tasks.astype(np.int64)
        self.count_bound = bool(np.any(self.max_tasks < self.n))
        # Per dimension, demand as (task, agent) rows: a wave gathers rows by task.
        self.share_by_task = [np.ascontiguousarray(self.share[:, :, k].T) for k in range(self.d)]
        self._noise_table = rng.uniform(0.0, 0.02, 64 * self.m)
        self.cost01_by_task = np.ascontiguousarray(_cost01(p).T)  # (n, m)
        # Eviction order: tasks whose next-cheapest agent costs little more go first.
        self.move01 = _move_cost01(self.cost01_by_task.T, p.eligible)  # (m, n)
        self.movable = np.ones(self.n, dtype=bool)
        for group in p.co_location:
            self.movable[group] = False  # moved as a block by the caller's fix, never split

    def _pairs(self, agents: np.ndarray, tasks: np.ndarray) -> np.ndarray:
        """Row of each (agent, task) in the per-pair tables."""
        return agents * self.n + tasks

    def _cells(self, plans: np.ndarray, agents: np.ndarray) -> np.ndarray:
        """Flat index of each (plan, agent) in the loads."""
        return plans * self.m + agents

    def loads(self, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float[P, m, d] usage in capacity units and int[P, m] task counts."""
        n_pop = len(pop)
        placed = pop >= 0
        agents = np.where(placed, pop, 0)
        cells = self._cells(np.arange(n_pop)[:, None], agents).ravel()
        share = self.share_of_pair[self._pairs(agents, self.task_index)]  # (P, n, d)
        if not placed.all():
            share = share * placed[:, :, None]
        size = n_pop * self.m
        usage = np.empty((size, self.d))
        for k in range(self.d):
            usage[:, k] = np.bincount(cells, weights=share[:, :, k].ravel(), minlength=size)
        counts = np.bincount(cells[placed.ravel()], minlength=size)
        return usage.reshape(n_pop, self.m, self.d), counts.reshape(n_pop, self.m)

    def __call__(self, pop: np.ndarray) -> np.ndarray:
        usage, counts = self.loads(pop)
        self.fix_overloads(pop, usage, counts)
        return pop

    def move(
        self,
        pop: np.ndarray,
        usage: np.ndarray,
        counts: np.ndarray,
        r: np.ndarray,
        t: np.ndarray,
        target: np.ndarray,
    ) -> None:
        """Apply proposed gene changes (plan r, task t -> agent target) in place.

        Each task first leaves its agent; it then goes to its proposed agent if it
        fits there, else back to its old agent if that still fits, else wherever it
        fits best. Only the changed genes are touched, so a child of feasible parents
        needs no eviction at all; plans that were overloaded before (infeasible
        parents) get the full repair afterwards.
        """
        plans = _Plans(pop, usage, counts)
        shuffle = self.rng.permutation(len(r))  # fair order when only some moves fit
        moved, tasks, proposed = r[shuffle], t[shuffle], target[shuffle]
        old = pop[moved, tasks]
        was_placed = old >= 0
        self._shift(plans, moved[was_placed], tasks[was_placed], old[was_placed], -1)
        pop[moved, tasks] = -1
        # An unassigned gene proposed by a parent stays unassigned.
        moved, tasks, old = self._place_where_fits(plans, moved, tasks, proposed, old)
        moved, tasks, _ = self._place_where_fits(plans, moved, tasks, old, old)
        if len(moved):
            rows, local_plans = np.unique(moved, return_inverse=True)
            part = plans.rows(rows)
            self._insert(part, local_plans, tasks, self.rng.random(len(rows)))
            plans.put(rows, part)
        self.fix_overloads(pop, usage, counts)

    def _place_where_fits(
        self,
        plans: _Plans,
        moved: np.ndarray,
        tasks: np.ndarray,
        agents: np.ndarray,
        carried: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Place each move whose agent fits (agent -1: left unassigned, done); returns
        the moves left over, with their entries of `carried`."""
        wanted = agents >= 0
        fits = self._fits_together(plans, moved, tasks, agents, wanted)
        self._place(plans, moved[fits], tasks[fits], agents[fits])
        left = ~(fits | ~wanted)
        return moved[left], tasks[left], carried[left]

    def fix_overloads(self, pop: np.ndarray, usage: np.ndarray, counts: np.ndarray) -> None:
        """Evict-and-insert rounds on the overloaded plans; updates all three in place."""
        plans = _Plans(pop, usage, counts)
        over = self._over(usage, counts)
        rows = np.flatnonzero(over.any(axis=1))
        for _ in range(_ROUNDS):
            if not len(rows):
                break
            # Later rounds touch only the plans that are still overloaded.
            part = plans.rows(rows)
            mix = self.rng.random(len(rows))  # per plan: 1 = cheapest, 0 = emptiest agent
            evicted_plans, evicted_tasks = self._evict(part, over[rows])
            if not len(evicted_plans):
                break
            self._insert(part, evicted_plans, evicted_tasks, mix)
            plans.put(rows, part)
            still_over = self._over(part.usage, part.counts)
            keep = still_over.any(axis=1)
            rows = rows[keep]
            over[rows] = still_over[keep]

    def _place(
        self, plans: _Plans, moved: np.ndarray, tasks: np.ndarray, agents: np.ndarray
    ) -> None:
        plans.genes[moved, tasks] = agents
        self._shift(plans, moved, tasks, agents, 1)

    def _shift(
        self,
        plans: _Plans,
        moved: np.ndarray,
        tasks: np.ndarray,
        agents: np.ndarray,
        sign: int,
    ) -> None:
        """Add (sign 1) or remove (-1) the moves' tasks to their agents' loads.

        bincount over (plan, agent) cells, not `np.add.at`: repeated cells are
        common and add.at is several times slower at these sizes.
        """
        if not len(moved):
            return
        size = plans.counts.size
        cells = self._cells(moved, agents)
        flat_counts = plans.counts.reshape(-1)
        flat_counts += sign * np.bincount(cells, minlength=size)
        flat_usage = plans.usage.reshape(size, self.d)
        share = self.share_of_pair[self._pairs(agents, tasks)]
        for k in range(self.d):
            flat_usage[:, k] += sign * np.bincount(cells, weights=share[:, k], minlength=size)

    def _over(self, usage: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """bool[P, m]: agents over capacity in some dimension or over max_tasks."""
        return np.any(usage > self.limit + _EPS, axis=2) | (counts > self.max_tasks)

    def _evict(self, plans: _Plans, over: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Take just enough tasks off each overloaded agent; returns their (plan, task)."""
        genes = plans.genes
        on_overloaded = (
            np.take_along_axis(over, np.maximum(genes, 0), axis=1) & (genes >= 0) & self.movable
        )
        moved, tasks = np.nonzero(on_overloaded)
        if not len(moved):
            return moved, tasks
        agents = genes[moved, tasks]
        cells = self._cells(moved, agents)
        # Within each cell, the cheapest to move go first (with noise); priority < 1.
        priority = 0.5 * (self.rng.random(len(moved)) + self.move01[agents, tasks])
        order = np.argsort(cells + 0.999 * priority)
        moved, tasks, agents, cells = moved[order], tasks[order], agents[order], cells[order]
        share = self.share[agents, tasks]  # (k, d)
        starts = _segment_starts(cells)
        freed_before = _running_totals(share, starts, inclusive=False)
        rank_in_cell = np.arange(len(cells)) - starts
        excess = plans.usage[moved, agents] - self.limit[agents]
        excess_count = plans.counts[moved, agents] - self.max_tasks[agents]
        # Evict a task while the ones before it have not yet covered the excess.
        short = (excess > _EPS) & (freed_before < excess - _EPS)
        take = np.any(short, axis=1) | (rank_in_cell < excess_count)
        moved, tasks, agents = moved[take], tasks[take], agents[take]
        self._shift(plans, moved, tasks, agents, -1)
        genes[moved, tasks] = -1
        return moved, tasks

    def _insert(self, plans: _Plans, moved: np.ndarray, tasks: np.ndarray, mix: np.ndarray) -> None:
        """Place the evicted (plan, task) pairs, best-scoring agent first, in waves."""
        for wave in range(_WAVES + 1):
            if not len(moved):
                return
            last = wave == _WAVES
            headroom = self._headroom(plans.usage, moved, tasks)
            eligible = self.eligible_by_task[tasks]
            fits = (headroom >= -_EPS) & eligible
            if self.count_bound:
                fits &= (plans.counts < self.max_tasks)[moved]
            if last:
                # Nothing fits: the least overloading eligible agent; the plan stays infeasible.
                score = np.where(eligible, headroom + 4.0 * fits, -np.inf)
            else:
                score = np.where(fits, self._preference(moved, tasks, headroom, mix), -np.inf)
            agents = np.argmax(score, axis=1)
            ok = np.isfinite(score[np.arange(len(moved)), agents])
            if not last:
                ok = self._fits_together(plans, moved, tasks, agents, ok)
            elif not ok.all():
                agents[~ok] = 0  # no eligible agent at all: any agent; eligibility breach stays
                ok[:] = True
            self._place(plans, moved[ok], tasks[ok], agents[ok])
            moved, tasks = moved[~ok], tasks[~ok]

    def _headroom(self, usage: np.ndarray, moved: np.ndarray, tasks: np.ndarray) -> np.ndarray:
        """float[k, m]: each agent's room left after taking the task, its tightest dimension."""
        room = self.limit - usage  # (P, m, d): small, so per wave is cheap
        headroom = room[moved, :, 0] - self.share_by_task[0][tasks]
        for k in range(1, self.d):
            np.minimum(headroom, room[moved, :, k] - self.share_by_task[k][tasks], out=headroom)
        return headroom

    def _preference(
        self, moved: np.ndarray, tasks: np.ndarray, headroom: np.ndarray, mix: np.ndarray
    ) -> np.ndarray:
        """float[k, m]: the plan's mix of low cost and headroom, plus tie-breaking noise."""
        weight = mix[moved][:, None]
        cheapness = 1.0 - self.cost01_by_task[tasks]
        return weight * cheapness + (1.0 - weight) * headroom + self._noise(moved.size)

    def _noise(self, k: int) -> np.ndarray:
        """(k, m) tie-breaking noise: a random window of a fixed table, not k*m new draws."""
        size = k * self.m
        if size > len(self._noise_table):
            self._noise_table = self.rng.uniform(0.0, 0.02, 2 * size)
        start = int(self.rng.integers(0, len(self._noise_table) - size + 1))
        return self._noise_table[start : start + size].reshape(k, self.m)

    def _fits_together(
        self,
        plans: _Plans,
        moved: np.ndarray,
        tasks: np.ndarray,
        agents: np.ndarray,
        wanted: np.ndarray,
    ) -> np.ndarray:
        """Of the `wanted` moves, those to an eligible agent whose running total fits.

        Moves of one plan to one agent are taken in the order given (the caller
        shuffles once), so no task index is favoured when only some of them fit.
        """
        agents = np.where(wanted, agents, 0)
        pairs = self._pairs(agents, tasks)
        wanted = wanted & np.take(self.eligible_of_pair, pairs)
        cells = np.where(wanted, self._cells(moved, agents), -1)
        order = np.argsort(cells, kind="stable")
        sorted_cells = cells[order]
        starts = _segment_starts(sorted_cells)
        arriving = _running_totals(self.share_of_pair[pairs[order]], starts, inclusive=True)
        cell = np.maximum(sorted_cells, 0)
        present = plans.usage.reshape(-1, self.d)[cell]
        limit = self.limit[agents[order]]
        fits = np.all(present + arriving <= limit + _EPS, axis=1)
        if self.count_bound:
            rank_in_cell = np.arange(len(sorted_cells)) - starts
            fits &= plans.counts.reshape(-1)[cell] + rank_in_cell < self.max_tasks[cell % self.m]
        accepted = np.empty(len(moved), dtype=bool)
        accepted[order] = fits
        return accepted & wanted
