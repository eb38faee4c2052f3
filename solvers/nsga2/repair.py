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
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem

__all__ = ["CapacityRepair"]

_ROUNDS = 3  # evict-and-insert rounds (each only on the plans still overloaded)
_WAVES = 3  # insertion waves per round
_EPS = 1e-9


def _segment_starts(group: np.ndarray) -> np.ndarray:
    """For sorted keys, the index of the first element of each element's run."""
    first = np.ones(len(group), dtype=bool)
    np.not_equal(group[1:], group[:-1], out=first[1:])
    index = np.arange(len(group))
    return np.maximum.accumulate(np.where(first, index, 0))


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


class CapacityRepair:
    """Moves tasks off overloaded agents for a whole population at once."""

    def __init__(self, problem: CompiledProblem, rng: np.random.Generator):
        p = problem
        self.rng = rng
        self.m, self.n, self.d = p.n_agents, p.n_tasks, p.n_dims
        self.cols = np.arange(self.n)
        cap = p.capacity.astype(np.float64)
        cap_safe = np.where(cap > 0, cap, 1.0)
        self.limit = cap / cap_safe  # 1 per dimension, 0 where an agent has none
        self.share = p.usage.astype(np.float64) / cap_safe[:, None, :]  # (m, n, d)
        self.share_rows = self.share.reshape(self.m * self.n, self.d)
        self.eligible_t = np.ascontiguousarray(p.eligible.T)  # (n, m)
        self.max_tasks = p.max_tasks.astype(np.int64)
        self.count_bound = bool(np.any(self.max_tasks < self.n))
        # Per dimension, demand as (task, agent) rows: a wave gathers rows by task.
        self.share_t = [np.ascontiguousarray(self.share[:, :, k].T) for k in range(self.d)]
        self.eligible_rows = p.eligible.ravel()
        self._noise_table = rng.uniform(0.0, 0.02, 64 * self.m)
        self.cost01_t = np.ascontiguousarray(_cost01(p).T)  # (n, m)
        # Eviction order: tasks whose next-cheapest agent costs little more go first.
        cost01 = self.cost01_t.T
        ranked = np.sort(np.where(p.eligible, cost01, np.inf), axis=0)
        cheapest, runner_up = ranked[0], ranked[min(1, self.m - 1)]
        best_other = np.where(cost01 > cheapest, cheapest, runner_up)
        move = np.nan_to_num(best_other - cost01, posinf=1.0)
        self.move01 = np.clip(move, 0.0, 1.0)  # (m, n)
        self.movable = np.ones(self.n, dtype=bool)
        for group in p.co_location:
            self.movable[group] = False  # moved as a block by the caller's fix, never split

    def loads(self, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float[P, m, d] usage in capacity units and int[P, m] task counts."""
        n_pop = len(pop)
        placed = pop >= 0
        safe = np.where(placed, pop, 0)
        key = np.arange(n_pop)[:, None] * self.m + safe
        w = self.share_rows[safe * self.n + self.cols]  # (P, n, d)
        if not placed.all():
            w = w * placed[:, :, None]
        key_flat = key.ravel()
        size = n_pop * self.m
        usage = np.empty((size, self.d))
        for k in range(self.d):
            usage[:, k] = np.bincount(key_flat, weights=w[:, :, k].ravel(), minlength=size)
        counts = np.bincount(key_flat[placed.ravel()], minlength=size)
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
        """Apply proposed gene changes to plans whose loads are known, in place.

        Each task (plan r, task t) first leaves its agent; it then goes to its
        proposed agent if it fits there, else back to its old agent if that still
        fits, else wherever it fits best. Only the changed genes are touched, so
        a child of feasible parents needs no eviction at all; plans that were
        overloaded before (infeasible parents) get the full repair afterwards.
        """
        shuffle = self.rng.permutation(len(r))  # fair order when only some moves fit
        r, t, target = r[shuffle], t[shuffle], target[shuffle]
        old = pop[r, t]
        was = old >= 0
        self._shift(usage, counts, r[was], t[was], old[was], -1)
        pop[r, t] = -1
        ok = self._fits_together(usage, counts, r, t, target, target >= 0)
        self._place(pop, usage, counts, r[ok], t[ok], target[ok])
        # An unassigned gene proposed by a parent stays unassigned.
        rest = ~(ok | (target < 0))
        r, t, old = r[rest], t[rest], old[rest]
        ok = self._fits_together(usage, counts, r, t, old, old >= 0)
        self._place(pop, usage, counts, r[ok], t[ok], old[ok])
        rest = ~(ok | (old < 0))
        r, t = r[rest], t[rest]
        if len(r):
            rows, inverse = np.unique(r, return_inverse=True)
            sub, u, c = pop[rows], usage[rows], counts[rows]
            self._insert(sub, u, c, inverse, t, self.rng.random(len(rows)))
            pop[rows], usage[rows], counts[rows] = sub, u, c
        self.fix_overloads(pop, usage, counts)

    def fix_overloads(self, pop: np.ndarray, usage: np.ndarray, counts: np.ndarray) -> None:
        """Evict-and-insert rounds on the overloaded plans; updates all three in place."""
        over = self._over(usage, counts)
        rows = np.flatnonzero(over.any(axis=1))
        for _ in range(_ROUNDS):
            if not len(rows):
                break
            # Later rounds touch only the plans that are still overloaded.
            sub, u, c = pop[rows], usage[rows], counts[rows]
            mix = self.rng.random(len(rows))  # per plan: 1 = cheapest, 0 = emptiest agent
            r, t = self._evict(sub, u, c, over[rows])
            if not len(r):
                break
            self._insert(sub, u, c, r, t, mix)
            pop[rows], usage[rows], counts[rows] = sub, u, c
            over_sub = self._over(u, c)
            keep = over_sub.any(axis=1)
            rows = rows[keep]
            over[rows] = over_sub[keep]

    def _place(
        self,
        pop: np.ndarray,
        usage: np.ndarray,
        counts: np.ndarray,
        r: np.ndarray,
        t: np.ndarray,
        a: np.ndarray,
    ) -> None:
        pop[r, t] = a
        self._shift(usage, counts, r, t, a, 1)

    def _shift(
        self,
        usage: np.ndarray,
        counts: np.ndarray,
        r: np.ndarray,
        t: np.ndarray,
        a: np.ndarray,
        sign: int,
    ) -> None:
        """Add (sign 1) or remove (-1) tasks t of plans r on agents a to the loads.

        bincount over (plan, agent) cells, not `np.add.at`: repeated cells are
        common and add.at is several times slower at these sizes.
        """
        if not len(r):
            return
        size = counts.size
        cell = r * self.m + a
        flat_counts = counts.reshape(-1)
        flat_counts += sign * np.bincount(cell, minlength=size)
        flat_usage = usage.reshape(size, self.d)
        share = self.share_rows[a * self.n + t]
        for k in range(self.d):
            flat_usage[:, k] += sign * np.bincount(cell, weights=share[:, k], minlength=size)

    def _over(self, usage: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return np.any(usage > self.limit + _EPS, axis=2) | (counts > self.max_tasks)

    def _evict(
        self, pop: np.ndarray, usage: np.ndarray, counts: np.ndarray, over: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Take just enough tasks off each overloaded agent; returns (plan, task) pairs."""
        safe = np.maximum(pop, 0)
        on_over = np.take_along_axis(over, safe, axis=1) & (pop >= 0) & self.movable
        r, t = np.nonzero(on_over)
        if not len(r):
            return r, t
        a = pop[r, t]
        group = r * self.m + a
        priority = 0.5 * (self.rng.random(len(r)) + self.move01[a, t])  # in [0, 1)
        order = np.argsort(group + 0.999 * priority)
        r, t, a, group = r[order], t[order], a[order], group[order]
        share = self.share[a, t]  # (k, d)
        start = _segment_starts(group)
        cum = np.cumsum(share, axis=0)
        before = cum - share - (cum[start] - share[start])
        position = np.arange(len(group)) - start
        need = usage[r, a] - self.limit[a]
        need_count = counts[r, a] - self.max_tasks[a]
        # Evict a task while the ones before it have not yet covered the excess.
        take = np.any((need > _EPS) & (before < need - _EPS), axis=1) | (position < need_count)
        r, t, a = r[take], t[take], a[take]
        self._shift(usage, counts, r, t, a, -1)
        pop[r, t] = -1
        return r, t

    def _insert(
        self,
        pop: np.ndarray,
        usage: np.ndarray,
        counts: np.ndarray,
        r: np.ndarray,
        t: np.ndarray,
        mix: np.ndarray,
    ) -> None:
        """Place the evicted (plan, task) pairs, best-scoring agent first, in waves."""
        for wave in range(_WAVES + 1):
            if not len(r):
                return
            last = wave == _WAVES
            room = self.limit - usage  # (P, m, d): small, so per wave is cheap
            headroom = room[r, :, 0] - self.share_t[0][t]  # (k, m), per dimension below
            for k in range(1, self.d):
                np.minimum(headroom, room[r, :, k] - self.share_t[k][t], out=headroom)
            eligible = self.eligible_t[t]
            fits = (headroom >= -_EPS) & eligible
            if self.count_bound:
                fits &= (counts < self.max_tasks)[r]
            if last:
                # Nothing fits: the least overloading eligible agent; the plan stays infeasible.
                score = np.where(eligible, headroom + 4.0 * fits, -np.inf)
            else:
                w = mix[r][:, None]
                score = w * (1.0 - self.cost01_t[t]) + (1.0 - w) * headroom + self._noise(r.size)
                score = np.where(fits, score, -np.inf)
            target = np.argmax(score, axis=1)
            ok = np.isfinite(score[np.arange(len(r)), target])
            if not last:
                ok = self._fits_together(usage, counts, r, t, target, ok)
            elif not ok.all():
                target[~ok] = 0  # no eligible agent at all: any agent; eligibility breach stays
                ok[:] = True
            self._place(pop, usage, counts, r[ok], t[ok], target[ok])
            r, t = r[~ok], t[~ok]

    def _noise(self, k: int) -> np.ndarray:
        """(k, m) tie-breaking noise: a random window of a fixed table, not k*m new draws."""
        size = k * self.m
        if size > len(self._noise_table):
            self._noise_table = self.rng.uniform(0.0, 0.02, 2 * size)
        start = int(self.rng.integers(0, len(self._noise_table) - size + 1))
        return self._noise_table[start : start + size].reshape(k, self.m)

    def _fits_together(
        self,
        usage: np.ndarray,
        counts: np.ndarray,
        r: np.ndarray,
        t: np.ndarray,
        target: np.ndarray,
        ok: np.ndarray,
    ) -> np.ndarray:
        """Of the moves marked `ok`, those to an eligible agent whose running total fits.

        Moves of one plan to one agent are taken in the order given (the caller
        shuffles once), so no task index is favoured when only some of them fit.
        """
        target = np.where(ok, target, 0)
        cell_of = target * self.n + t
        ok = ok & np.take(self.eligible_rows, cell_of)
        group = np.where(ok, r * self.m + target, -1)
        order = np.argsort(group, kind="stable")
        g = group[order]
        share = self.share_rows[cell_of[order]]
        start = _segment_starts(g)
        cum = np.cumsum(share, axis=0)
        inside = cum - (cum[start] - share[start])
        cell = np.maximum(g, 0)
        before = usage.reshape(-1, self.d)[cell]
        limit = self.limit[target[order]]
        fits = before[:, 0] + inside[:, 0] <= limit[:, 0] + _EPS
        for k in range(1, self.d):
            fits &= before[:, k] + inside[:, k] <= limit[:, k] + _EPS
        if self.count_bound:
            position = np.arange(len(g)) - start
            fits &= counts.reshape(-1)[cell] + position < self.max_tasks[cell % self.m]
        accepted = np.empty(len(r), dtype=bool)
        accepted[order] = fits
        return accepted & ok
