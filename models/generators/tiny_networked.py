"""Tiny allocation problems whose links are tight: small enough to brute-force (4^5 plans).

Five tasks, four agents on three nodes (a triangle or a path), one resource with room
for two or three tasks per agent, costs 1-9, three or four communicating pairs of
volume 1-10 and link bandwidths of 3-15, so the cheapest plan often overloads a link
and the best plan within bandwidth is found only by enumeration. Used to check that
bandwidth-aware engines end with the brute-force best plan that fits (issue 15).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from models.compiled import CompiledProblem
from models.evaluation import evaluate_plan
from models.schema import Problem

__all__ = ["TinyOptimum", "brute_force_within_bandwidth", "generate_tiny_networked_problem"]


def generate_tiny_networked_problem(seed: int, *, n_tasks: int = 5, n_agents: int = 4) -> Problem:
    """One random tiny case (objective: cost); agent i sits on node i mod 3."""
    rng = np.random.default_rng(seed)
    triangle = bool(rng.random() < 0.5)
    ends = [(0, 1), (1, 2)] + ([(0, 2)] if triangle else [])
    links = [
        {
            "a": f"n{a}",
            "b": f"n{b}",
            "latency_ms": float(rng.integers(1, 6)),
            "bandwidth": float(rng.integers(3, 16)),
        }
        for a, b in ends
    ]
    agents = [
        {"id": f"A{i}", "capacity": {"cpu": float(rng.integers(2, 4))}, "node": f"n{i % 3}"}
        for i in range(n_agents)
    ]
    tasks = [{"id": f"t{j}", "demand": {"cpu": 1.0}} for j in range(n_tasks)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < int(rng.integers(3, 5)):
        a, b = sorted(rng.choice(n_tasks, size=2, replace=False).tolist())
        pairs.add((a, b))
    communication = [
        {"a": f"t{a}", "b": f"t{b}", "volume": float(rng.integers(1, 11))} for a, b in sorted(pairs)
    ]
    return Problem.model_validate(
        {
            "name": f"tiny-networked-{seed}",
            "agents": agents,
            "tasks": tasks,
            "cost": rng.integers(1, 10, size=(n_agents, n_tasks)).tolist(),
            "communication": communication,
            "topology": {"nodes": [{"id": f"n{k}"} for k in range(3)], "links": links},
        }
    )


@dataclass(frozen=True)
class TinyOptimum:
    """The cheapest plan with bandwidth ignored, whether it fits, and the cheapest that fits."""

    cheapest: np.ndarray | None  # None: no plan keeps every other rule
    cheapest_fits: bool
    best_within: float | None  # cost of the cheapest plan within bandwidth, None if none


def brute_force_within_bandwidth(compiled: CompiledProblem) -> TinyOptimum:
    """Enumerate every plan within capacity by cost (the objective of these cases) and
    evaluate them cheapest first until one fits: m^n plans, few evaluations."""
    m, n = compiled.n_agents, compiled.n_tasks
    plans = np.array(list(itertools.product(range(m), repeat=n)), dtype=np.int64)
    counts = np.stack([np.bincount(p, minlength=m) for p in plans])
    plans = plans[(counts <= compiled.capacity[:, 0]).all(axis=1)]
    cost = compiled.cost[plans, np.arange(n)].sum(axis=1)
    plans = plans[np.argsort(cost, kind="stable")]
    cheapest, cheapest_fits = None, False
    for k, plan in enumerate(plans):
        ev = evaluate_plan(compiled, plan)
        if k == 0:
            cheapest, cheapest_fits = plan, ev.feasible
        if ev.feasible:
            return TinyOptimum(cheapest, cheapest_fits, float(ev.score))
    return TinyOptimum(cheapest, cheapest_fits, None)
