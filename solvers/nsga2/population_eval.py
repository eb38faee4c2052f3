"""Whole-population evaluation: objectives and constraint violation for P plans at once.

Definitions mirror `models.evaluation.evaluate_plan` exactly (the tests hold them
to it); every objective, including the ordered ones (weighted completion and
tardiness), is array work over the P x n gene matrix, never a Python loop over plans.
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem

__all__ = ["PopulationEvaluator"]


class _Totals:
    """Per-population intermediates shared by the objectives and the violation."""

    def __init__(self, placed: np.ndarray, all_placed: bool, flat: np.ndarray):
        self.placed, self.all_placed, self.flat = placed, all_placed, flat
        self.durations: np.ndarray = np.zeros(0)
        self.load: np.ndarray = np.zeros(0)
        self.usage: np.ndarray = np.zeros(0)
        self.counts: np.ndarray = np.zeros(0, dtype=np.int64)

    def gather(self, table: np.ndarray) -> np.ndarray:
        """table[agent * n + task] per gene, 0 where the task is unassigned."""
        values = np.take(table, self.flat)
        return values if self.all_placed else values * self.placed


class PopulationEvaluator:
    """Scores populations (int[P, n], agent per task, -1 unassigned) of one problem."""

    def __init__(self, problem: CompiledProblem, names: tuple[str, ...]):
        self.problem = problem
        self.names = names
        self.m, self.n, self.d = problem.n_agents, problem.n_tasks, problem.n_dims
        self.cols = np.arange(self.n)
        cap = problem.capacity.astype(np.float64)
        self.cap = cap
        self._cap_safe = np.where(cap > 0, cap, 1.0)
        self._dims = np.maximum((cap > 0).sum(axis=1), 1)
        # Flat per-(agent, task) tables: one `take` at agent * n + task per gene is far
        # cheaper than 2-D/3-D fancy indexing, and it is paid every generation.
        self._duration = problem.duration.astype(np.float64).ravel()
        self._cost = problem.cost.astype(np.float64).ravel()
        self._usage = [problem.usage[:, :, k].astype(np.float64).ravel() for k in range(self.d)]
        self._eligible = problem.eligible.ravel()
        self._count_bound = bool(np.any(problem.max_tasks < self.n))

    def _agent_totals(self, pop: np.ndarray) -> _Totals:
        n_pop = pop.shape[0]
        placed = pop >= 0
        all_placed = bool(placed.all())
        safe = pop if all_placed else np.where(placed, pop, 0)
        t = _Totals(placed, all_placed, safe * self.n + self.cols)
        key = np.arange(n_pop)[:, None] * self.m + safe
        # Unassigned genes count nowhere.
        key = key.ravel() if all_placed else key[placed]
        size = n_pop * self.m

        def per_agent(weights: np.ndarray) -> np.ndarray:
            w = weights.ravel() if all_placed else weights[placed]
            return np.bincount(key, weights=w, minlength=size).reshape(n_pop, self.m)

        t.durations = t.gather(self._duration)
        t.load = per_agent(t.durations)
        t.usage = np.empty((n_pop, self.m, self.d))
        for k in range(self.d):
            t.usage[:, :, k] = per_agent(np.take(self._usage[k], t.flat))
        t.counts = np.bincount(key, minlength=size).reshape(n_pop, self.m)
        return t

    def evaluate(self, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float64[P, len(names)] objectives and float64[P] violation (0 = feasible)."""
        pop = np.asarray(pop, dtype=np.int64)
        t = self._agent_totals(pop)
        values = np.empty((pop.shape[0], len(self.names)))
        for c, name in enumerate(self.names):
            values[:, c] = self._objective(name, pop, t)
        return values, self._violation(pop, t)

    def all_objectives(self, pop: np.ndarray) -> dict[str, np.ndarray]:
        """Every objective the evaluator knows, as float64[P] arrays (for tests and reports)."""
        pop = np.asarray(pop, dtype=np.int64)
        t = self._agent_totals(pop)
        from models.schema import OBJECTIVE_NAMES

        return {name: self._objective(name, pop, t) for name in OBJECTIVE_NAMES}

    def _objective(self, name: str, pop: np.ndarray, t: _Totals) -> np.ndarray:
        p = self.problem
        placed, load = t.placed, t.load
        if name == "cost":
            return t.gather(self._cost).sum(axis=1)
        if name == "makespan":
            return load.max(axis=1)
        if name == "imbalance":
            return load.max(axis=1) - load.mean(axis=1)
        if name == "consolidation":
            ratio = np.where(self.cap > 0, t.usage / self._cap_safe, 0.0).sum(axis=2)
            idle = 1.0 - np.minimum(ratio / self._dims, 1.0)
            return np.where(t.counts > 0, idle, 0.0).sum(axis=1)
        if name == "unassigned":
            return ((~placed) * p.task_weight).sum(axis=1) * p.unassigned_penalty
        if name == "migrations":
            return ((p.current >= 0) & (pop != p.current)).sum(axis=1).astype(np.float64)
        if name == "communication":
            return self._communication(pop)
        if name in ("weighted_completion", "tardiness"):
            return self._ordered(name, pop, t)
        raise ValueError(f"unknown objective {name!r}")

    def _communication(self, pop: np.ndarray) -> np.ndarray:
        p = self.problem
        if p.latency is None or not len(p.comm_pairs):
            return np.zeros(pop.shape[0])
        left, right = pop[:, p.comm_pairs[:, 0]], pop[:, p.comm_pairs[:, 1]]
        both = (left >= 0) & (right >= 0)
        lat = p.latency[np.maximum(left, 0), np.maximum(right, 0)]
        return (np.where(both, lat, 0.0) * p.comm_volume).sum(axis=1)

    def _ordered(self, name: str, pop: np.ndarray, t: _Totals) -> np.ndarray:
        """Completion times when each agent runs its tasks by priority, deadline, index."""
        p = self.problem
        n_pop, n = pop.shape
        placed = t.placed
        rows = np.repeat(np.arange(n_pop), n)
        task = np.tile(self.cols, n_pop)
        agent = pop.ravel()
        order = np.lexsort((task, p.deadline[task], p.priority_rank[task], agent, rows))
        order = order[placed.ravel()[order]]
        dur = t.durations.ravel()[order]
        cum = np.cumsum(dur)
        key = rows[order] * self.m + agent[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        offset = np.repeat(cum[starts] - dur[starts], np.diff(np.r_[starts, len(order)]))
        completion = np.zeros(n_pop * n)
        completion[order] = cum - offset
        completion = completion.reshape(n_pop, n)
        w = p.task_weight[None, :] * placed
        if name == "tardiness":
            return (w * np.maximum(0.0, completion - p.deadline[None, :])).sum(axis=1)
        total = w.sum(axis=1)
        return np.where(total > 0, (w * completion).sum(axis=1) / np.where(total > 0, total, 1), 0)

    def _violation(self, pop: np.ndarray, t: _Totals) -> np.ndarray:
        """Sum of hard-constraint breaches, each scaled to be about 1 per broken rule."""
        p = self.problem
        placed = t.placed
        over = np.maximum(0.0, t.usage - self.cap * (1 + 1e-6) - 1e-6) / self._cap_safe
        v = over.sum(axis=(1, 2))
        v += (placed & ~np.take(self._eligible, t.flat)).sum(axis=1)
        if self._count_bound:
            v += np.maximum(0, t.counts - p.max_tasks).sum(axis=1)
        if not p.allow_unassigned:
            v += (~placed).sum(axis=1)
        for group in p.anti_affinity:
            genes = np.sort(pop[:, group], axis=1)
            v += ((genes[:, 1:] == genes[:, :-1]) & (genes[:, 1:] >= 0)).sum(axis=1)
        for group in p.co_location:
            genes = pop[:, group]
            v += (genes != genes[:, :1]).any(axis=1)
        return v
