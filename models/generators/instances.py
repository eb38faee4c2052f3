"""Seeded generators of realistic attribute-form problems for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from models.schema import (
    Agent,
    ConstraintGroup,
    Objectives,
    PriorityClass,
    Problem,
    Task,
)

__all__ = ["generate_attribute_problem"]

_DIMS = ("cpu", "memory", "disk")
_CAPABILITIES = ("gpu", "ssd", "fast-net", "eu-region")
_PRIORITIES = (PriorityClass.critical, PriorityClass.high, PriorityClass.normal, PriorityClass.low)


def generate_attribute_problem(
    n_tasks: int,
    n_agents: int,
    seed: int,
    *,
    n_dims: int = 2,
    slack: tuple[float, float] = (1.2, 1.5),
    capability_rate: float = 0.15,
    n_anti_affinity: int = 0,
    n_co_location: int = 0,
    objectives: Objectives | None = None,
    allow_unassigned: bool = False,
    with_current: bool = False,
) -> Problem:
    """A random problem that is feasible with high probability.

    Agents differ in speed, cost rate and capabilities; tasks in work, demand per
    dimension, priority and deadline. Each dimension's total capacity is a random
    factor in `slack` times the total demand, spread unevenly over agents. A
    fraction `capability_rate` of tasks requires one capability, which about half
    the agents have, so eligibility matters without making the problem infeasible.
    Cost: O(n_tasks + n_agents) Python objects.
    """
    if not 1 <= n_dims <= len(_DIMS):
        raise ValueError(f"n_dims is {n_dims}; use 1 to {len(_DIMS)}")
    rng = np.random.default_rng(seed)
    dims = list(_DIMS[:n_dims])
    # Demand: cpu and memory correlate loosely, as real jobs do.
    demand = rng.uniform(0.5, 4.0, size=(n_tasks, n_dims))
    if n_dims > 1:
        demand[:, 1] = np.clip(demand[:, 0] * rng.uniform(0.5, 2.5, n_tasks), 0.25, None)
    work = rng.uniform(1.0, 10.0, n_tasks)
    priority = rng.choice(4, size=n_tasks, p=[0.05, 0.15, 0.6, 0.2])
    requires = np.where(
        rng.random(n_tasks) < capability_rate, rng.integers(0, len(_CAPABILITIES), n_tasks), -1
    )

    speed = rng.uniform(0.5, 2.0, n_agents)
    # Faster agents cost more per second, so cost and speed trade off.
    cost_rate = speed * rng.uniform(0.6, 1.4, n_agents)
    has_cap = rng.random((n_agents, len(_CAPABILITIES))) < 0.5
    has_cap[rng.integers(0, n_agents, len(_CAPABILITIES)), np.arange(len(_CAPABILITIES))] = True
    share = rng.uniform(0.5, 1.5, n_agents)
    share /= share.sum()
    factor = rng.uniform(slack[0], slack[1], n_dims)
    capacity = share[:, None] * (demand.sum(axis=0) * factor)[None, :]
    # No agent may be too small for the largest task, or eligibility collapses.
    capacity = np.maximum(capacity, demand.max(axis=0)[None, :] * 1.05)

    mean_load = work.sum() / speed.sum()
    deadline = rng.uniform(0.3, 1.5, n_tasks) * mean_load

    agents = [
        Agent(
            id=f"agent{i}",
            capacity={d: round(float(capacity[i, k]), 3) for k, d in enumerate(dims)},
            speed=round(float(speed[i]), 3),
            cost_rate=round(float(cost_rate[i]), 3),
            capabilities=[c for c, has in zip(_CAPABILITIES, has_cap[i], strict=True) if has],
        )
        for i in range(n_agents)
    ]
    current = rng.integers(0, n_agents, n_tasks) if with_current else None
    tasks = [
        Task(
            id=f"task{j}",
            demand={d: round(float(demand[j, k]), 3) for k, d in enumerate(dims)},
            work=round(float(work[j]), 3),
            priority=_PRIORITIES[priority[j]],
            deadline=round(float(deadline[j]), 3),
            requires=[_CAPABILITIES[requires[j]]] if requires[j] >= 0 else [],
            current_agent=f"agent{current[j]}" if current is not None else None,
        )
        for j in range(n_tasks)
    ]
    groups = _groups(rng, n_agents, n_anti_affinity, n_co_location, requires)
    return Problem(
        name=f"generated-{n_tasks}x{n_agents}-s{seed}",
        resources=dims,
        agents=agents,
        tasks=tasks,
        groups=groups,
        objectives=objectives or Objectives(),
        allow_unassigned=allow_unassigned,
    )


def _groups(
    rng: np.random.Generator, n_agents: int, n_aa: int, n_co: int, requires: np.ndarray
) -> list[ConstraintGroup]:
    """Disjoint groups of 2-3 tasks without requirements; anti-affinity fits the agents."""
    plain = np.flatnonzero(requires < 0)
    wanted = 3 * (n_aa + n_co)
    if wanted > len(plain):
        raise ValueError(f"{n_aa + n_co} groups need {wanted} tasks without requirements")
    picked = rng.permutation(plain)[:wanted].reshape(-1, 3) if wanted else np.zeros((0, 3))
    out: list[ConstraintGroup] = []
    for g, members in enumerate(picked):
        size = 2 + int(rng.integers(0, 2))
        names = [f"task{int(j)}" for j in members[:size]]
        if g < n_aa:
            names = names[: max(2, min(len(names), n_agents))]
            out.append(ConstraintGroup(kind="anti_affinity", tasks=names))
        else:
            out.append(ConstraintGroup(kind="co_location", tasks=names))
    return out
