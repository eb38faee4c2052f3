"""Variation and repair on a numpy population (int[P, n], gene = agent index).

All operators work on the whole population at once; randomness comes from the
generator passed in, so a run is reproducible from its seed.
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem

__all__ = ["GeneOperators"]

_REPAIR_ROUNDS = 40


class GeneOperators:
    """Crossover, mutation and capacity/eligibility repair for one problem."""

    def __init__(self, problem: CompiledProblem, rng: np.random.Generator):
        self.p = problem
        self.rng = rng
        self.m, self.n = problem.n_agents, problem.n_tasks
        self.cols = np.arange(self.n)
        # Eligible agents of each task first, so a random eligible agent is one lookup.
        self.n_eligible = problem.eligible.sum(axis=0)
        self.eligible_agents = np.argsort(~problem.eligible.T, axis=1, kind="stable")
        self.cap = problem.capacity.astype(np.float64)
        self._cap_safe = np.where(self.cap > 0, self.cap, 1.0)

    def random_agents(self, tasks: np.ndarray) -> np.ndarray:
        """A uniformly random eligible agent for each task in `tasks` (any agent if none)."""
        count = np.maximum(self.n_eligible[tasks], 1)
        pick = (self.rng.random(len(tasks)) * count).astype(np.int64)
        return self.eligible_agents[tasks, pick]

    def random_population(self, size: int) -> np.ndarray:
        tasks = np.tile(self.cols, size)
        return self.random_agents(tasks).reshape(size, self.n)

    def crossover(self, a: np.ndarray, b: np.ndarray, prob: float = 0.9) -> np.ndarray:
        """Uniform crossover of row pairs; returns 2 * len(a) children."""
        mask = self.rng.random(a.shape) < 0.5
        mask &= (self.rng.random(len(a)) < prob)[:, None]
        return np.concatenate([np.where(mask, b, a), np.where(mask, a, b)])

    def mutate(self, pop: np.ndarray, rate: float) -> np.ndarray:
        """Reset each gene with probability `rate` to a random eligible agent."""
        rows, genes = np.nonzero(self.rng.random(pop.shape) < rate)
        pop[rows, genes] = self.random_agents(genes)
        return pop

    def repair(self, pop: np.ndarray) -> np.ndarray:
        """Fix co-location, eligibility, then move tasks off overloaded agents.

        Each round takes, from every overloaded (plan, agent), a random set of its
        tasks just large enough to cover the excess and sends each to the eligible
        agent with most normalised slack in that plan (ties broken at random).
        Plans still overloaded after the rounds stay so; selection ranks them last.
        """
        p = self.p
        for group in p.co_location:
            pop[:, group] = pop[:, group[:1]]
        bad = (pop >= 0) & ~p.eligible[np.maximum(pop, 0), self.cols]
        rows, genes = np.nonzero(bad)
        pop[rows, genes] = self.random_agents(genes)
        movable = np.ones(self.n, dtype=bool)
        for group in p.co_location:
            movable[group] = False
        usage, counts = self._totals(pop)
        active = np.arange(len(pop))
        for _ in range(_REPAIR_ROUNDS):
            excess = (usage - self.cap[None]) / self._cap_safe[None]
            over = np.any(excess > 1e-9, axis=2) | (counts > p.max_tasks)
            still = over.any(axis=1)
            if not still.any():
                break
            # Later rounds touch only the plans that are still overloaded.
            active, usage, counts = active[still], usage[still], counts[still]
            excess, over = excess[still], over[still]
            sub = pop[active]
            rows, genes = self._excess_tasks(sub, over, excess, counts, movable)
            if not len(rows):
                break
            old = sub[rows, genes]
            self._relocate(sub, rows, genes, usage, counts)
            new = sub[rows, genes]
            moved = old != new
            rows, genes, old, new = rows[moved], genes[moved], old[moved], new[moved]
            np.add.at(usage, (rows, old), -p.usage[old, genes, :])
            np.add.at(usage, (rows, new), p.usage[new, genes, :])
            np.add.at(counts, (rows, old), -1)
            np.add.at(counts, (rows, new), 1)
            pop[active] = sub
        return pop

    def _excess_tasks(
        self,
        pop: np.ndarray,
        over: np.ndarray,
        excess: np.ndarray,
        counts: np.ndarray,
        movable: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(plan, task) pairs to move: a random prefix of each overloaded agent's tasks."""
        p = self.p
        safe = np.maximum(pop, 0)
        on_over = over[np.arange(len(pop))[:, None], safe] & (pop >= 0) & movable[None, :]
        rows, genes = np.nonzero(on_over)
        if not len(rows):
            return rows, genes
        agents = pop[rows, genes]
        shuffle = self.rng.permutation(len(rows))
        rows, genes, agents = rows[shuffle], genes[shuffle], agents[shuffle]
        key = rows * self.m + agents
        order = np.argsort(key, kind="stable")
        rows, genes, agents, key = rows[order], genes[order], agents[order], key[order]
        share = p.usage[agents, genes, :] / self._cap_safe[agents]
        cum = np.cumsum(share, axis=0)
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        lengths = np.diff(np.r_[starts, len(key)])
        before = cum - share - np.repeat(cum[starts] - share[starts], lengths, axis=0)
        position = np.arange(len(key)) - np.repeat(starts, lengths)
        need = excess[rows, agents]
        need_count = counts[rows, agents] - p.max_tasks[agents]
        # Keep a task while the ones before it have not yet covered the excess.
        take = np.any((need > 1e-9) & (before < need), axis=1) | (position < need_count)
        return rows[take], genes[take]

    def _relocate(
        self,
        pop: np.ndarray,
        rows: np.ndarray,
        genes: np.ndarray,
        usage: np.ndarray,
        counts: np.ndarray,
    ) -> None:
        p = self.p
        demand = p.usage[:, genes, :].transpose(1, 0, 2)  # (k, m, d)
        room = ((self.cap[None] - usage[rows] - demand) / self._cap_safe[None]).min(axis=2)
        fits = (room >= -1e-9) & (counts[rows] < p.max_tasks[None, :])
        score = room + self.rng.uniform(0.0, 0.05, room.shape) + np.where(fits, 1e6, 0.0)
        score = np.where(p.eligible[:, genes].T, score, -np.inf)
        score[np.arange(len(rows)), pop[rows, genes]] = -np.inf
        target = np.argmax(score, axis=1)
        ok = np.isfinite(score[np.arange(len(rows)), target])
        pop[rows[ok], genes[ok]] = target[ok]

    def _totals(self, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_pop = len(pop)
        placed = pop >= 0
        safe = np.maximum(pop, 0)
        flat = (np.arange(n_pop)[:, None] * self.m + safe)[placed]
        size = n_pop * self.m
        usage = np.empty((n_pop, self.m, self.p.n_dims))
        for k in range(self.p.n_dims):
            w = self.p.usage[safe, self.cols, k].astype(np.float64)[placed]
            usage[:, :, k] = np.bincount(flat, weights=w, minlength=size).reshape(n_pop, self.m)
        counts = np.bincount(flat, minlength=size).reshape(n_pop, self.m)
        return usage, counts
