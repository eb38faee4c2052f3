"""Seeded generators of GAP instances of types C, D and E, and a direct array compiler.

Formulas as quoted in ../shared/bench/gap/README.md (types C/D/E of Chu-Beasley and
Yagiura); `compile_gap` skips pydantic so 20,000 x 500 instances build in a second.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem, GapInstance, ObjectiveSpec
from models.schema import OBJECTIVE_NAMES

__all__ = ["compile_gap", "generate_gap"]


def generate_gap(kind: str, n_agents: int, n_tasks: int, seed: int = 0) -> GapInstance:
    """A type C, D or E instance (minimisation); capacities are 0.8 * total use / m."""
    rng = np.random.default_rng(seed)
    shape = (n_agents, n_tasks)
    kind = kind.upper()
    if kind == "C":
        usage = rng.integers(5, 26, size=shape)
        cost = rng.integers(10, 51, size=shape)
    elif kind == "D":
        usage = rng.integers(1, 101, size=shape)
        cost = 111 - usage + rng.integers(-10, 11, size=shape)
    elif kind == "E":
        uniform = 1.0 - rng.random(shape)  # in (0, 1]
        usage = np.floor(1 - 10 * np.log(uniform)).astype(np.int64)
        cost = np.floor(1000 / usage - 10 * rng.random(shape)).astype(np.int64)
    else:
        raise ValueError(f"unknown GAP type {kind!r}; use C, D or E")
    capacity = np.floor(0.8 * usage.sum(axis=1) / n_agents)
    name = f"{kind.lower()}{n_agents:02d}{n_tasks}-s{seed}"
    return GapInstance(name, cost.astype(np.float64), usage.astype(np.float64), capacity)


def compile_gap(instance: GapInstance) -> CompiledProblem:
    """The same arrays `compile_problem(gap_to_problem(instance))` gives, without pydantic."""
    m, n = instance.shape
    usage = instance.usage.astype(np.float32)[:, :, None]
    capacity = instance.capacity.astype(np.float32)[:, None]
    weights = np.zeros(len(OBJECTIVE_NAMES))
    weights[OBJECTIVE_NAMES.index("cost")] = 1.0
    return CompiledProblem(
        name=instance.name,
        agent_ids=[f"a{i}" for i in range(m)],
        task_ids=[f"t{j}" for j in range(n)],
        resources=["capacity"],
        cost=instance.cost.astype(np.float32),
        usage=usage,
        capacity=capacity,
        eligible=usage[:, :, 0] <= capacity + 1e-9,
        duration=np.ones((m, n), dtype=np.float32),
        max_tasks=np.full(m, n + 1, dtype=np.int32),
        task_weight=np.full(n, 2.0),
        priority_rank=np.full(n, 2, dtype=np.int8),
        deadline=np.full(n, np.inf),
        current=np.full(n, -1, dtype=np.int32),
        anti_affinity=[],
        co_location=[],
        comm_pairs=np.zeros((0, 2), dtype=np.int32),
        comm_volume=np.zeros(0),
        latency=None,
        objectives=ObjectiveSpec(mode="weighted", weights=weights, order=()),
        allow_unassigned=False,
        unassigned_penalty=1000.0,
    )
