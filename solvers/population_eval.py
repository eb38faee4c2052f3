"""Whole-population evaluation: objectives and constraint violation for P plans at once.

Definitions mirror `models.evaluation.evaluate_plan` exactly (the tests hold them
to it); every objective, including the ordered ones (weighted completion and
tardiness), is array work over the P x n gene matrix, never a Python loop over plans.
"""

from __future__ import annotations

import numpy as np

from models.compiled import CompiledProblem

__all__ = ["PopulationEvaluator"]


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

    def _agent_totals(self, pop: np.ndarray) -> dict[str, np.ndarray]:
        p = self.problem
        n_pop = pop.shape[0]
        placed = pop >= 0
        safe = np.where(placed, pop, 0)
        flat = (np.arange(n_pop)[:, None] * self.m + safe)[placed]
        size = n_pop * self.m
        durations = p.duration[safe, self.cols].astype(np.float64)
        load = np.bincount(flat, weights=durations[placed], minlength=size).reshape(n_pop, self.m)
        usage = np.empty((n_pop, self.m, self.d))
        for k in range(self.d):
            w = p.usage[safe, self.cols, k].astype(np.float64)[placed]
            usage[:, :, k] = np.bincount(flat, weights=w, minlength=size).reshape(n_pop, self.m)
        counts = np.bincount(flat, minlength=size).reshape(n_pop, self.m)
        return {
            "placed": placed,
            "safe": safe,
            "load": load,
            "usage": usage,
            "counts": counts,
            "durations": durations,
        }

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

    def _objective(self, name: str, pop: np.ndarray, t: dict[str, np.ndarray]) -> np.ndarray:
        p = self.problem
        placed, safe, load = t["placed"], t["safe"], t["load"]
        if name == "cost":
            return (p.cost[safe, self.cols].astype(np.float64) * placed).sum(axis=1)
        if name == "makespan":
            return load.max(axis=1)
        if name == "imbalance":
            return load.max(axis=1) - load.mean(axis=1)
        if name == "consolidation":
            ratio = np.where(self.cap > 0, t["usage"] / self._cap_safe, 0.0).sum(axis=2)
            idle = 1.0 - np.minimum(ratio / self._dims, 1.0)
            return np.where(t["counts"] > 0, idle, 0.0).sum(axis=1)
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

    def _ordered(self, name: str, pop: np.ndarray, t: dict[str, np.ndarray]) -> np.ndarray:
        """Completion times when each agent runs its tasks by priority, deadline, index."""
        p = self.problem
        n_pop, n = pop.shape
        placed = t["placed"]
        rows = np.repeat(np.arange(n_pop), n)
        task = np.tile(self.cols, n_pop)
        agent = pop.ravel()
        order = np.lexsort((task, p.deadline[task], p.priority_rank[task], agent, rows))
        order = order[placed.ravel()[order]]
        dur = t["durations"].ravel()[order]
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

    def _violation(self, pop: np.ndarray, t: dict[str, np.ndarray]) -> np.ndarray:
        """Sum of hard-constraint breaches, each scaled to be about 1 per broken rule."""
        p = self.problem
        placed, safe = t["placed"], t["safe"]
        over = np.maximum(0.0, t["usage"] - self.cap * (1 + 1e-6) - 1e-6) / self._cap_safe
        v = over.sum(axis=(1, 2))
        v += (placed & ~p.eligible[safe, self.cols]).sum(axis=1)
        v += np.maximum(0, t["counts"] - p.max_tasks).sum(axis=1)
        if not p.allow_unassigned:
            v += (~placed).sum(axis=1)
        for group in p.anti_affinity:
            genes = np.sort(pop[:, group], axis=1)
            v += ((genes[:, 1:] == genes[:, :-1]) & (genes[:, 1:] >= 0)).sum(axis=1)
        for group in p.co_location:
            genes = pop[:, group]
            v += (genes != genes[:, :1]).any(axis=1)
        return v
