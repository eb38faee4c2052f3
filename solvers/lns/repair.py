"""Cheap repair of a rounded LP / Lagrangian plan: shift tasks off overloaded agents (and
the agent sets of the LNS's exact repair when shifting is not enough).

Each move takes the task whose reduced cost rises least per unit of capacity freed
to the cheapest agent (by reduced cost) that still has room in every dimension.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem

__all__ = ["overload_neighbourhood", "shift_repair"]


def shift_repair(
    problem: CompiledProblem, plan: np.ndarray, reduced: np.ndarray | None
) -> np.ndarray:
    """Move tasks until no agent is over capacity or no move helps. Cost: O(moves * m)."""
    plan = plan.copy()
    price = (reduced if reduced is not None else problem.cost).astype(np.float64)
    price = np.where(problem.eligible, price, np.inf)
    load, count = _loads(problem, plan)
    cap = problem.capacity.astype(np.float64)
    stuck = np.zeros(problem.n_agents, dtype=bool)  # no single move relieves these
    for _ in range(4 * problem.n_tasks):
        over = (load > cap + 1e-9).any(axis=1) | (count > problem.max_tasks)
        overloaded = np.flatnonzero(over & ~stuck)
        if not len(overloaded):
            break
        source = int(overloaded[0])
        move = _cheapest_move(problem, plan, price, load, count, source)
        if move is None:
            stuck[source] = True  # left to the CP-SAT repair
            continue
        task, dest = move
        load[source] -= problem.usage[source, task].astype(np.float64)
        load[dest] += problem.usage[dest, task].astype(np.float64)
        count[source] -= 1
        count[dest] += 1
        plan[task] = dest
    return plan


def _loads(problem: CompiledProblem, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float[m, d] usage and int[m] task counts of the plan."""
    m = problem.n_agents
    placed = np.flatnonzero(plan >= 0)
    load = np.zeros((m, problem.n_dims))
    for k in range(problem.n_dims):
        load[:, k] = np.bincount(
            plan[placed], weights=problem.usage[plan[placed], placed, k], minlength=m
        )
    return load, np.bincount(plan[placed], minlength=m)


def _cheapest_move(
    problem: CompiledProblem,
    plan: np.ndarray,
    price: np.ndarray,
    load: np.ndarray,
    count: np.ndarray,
    source: int,
) -> tuple[int, int] | None:
    """(task, agent): the move off `source` whose price rises least per unit of capacity
    freed, to the cheapest agent with room in every dimension; None if none has room."""
    tasks = np.flatnonzero(plan == source)
    if not len(tasks):
        return None
    use = problem.usage[:, tasks, :].astype(np.float64)  # [m, t, d]
    cap = problem.capacity.astype(np.float64)
    fits = np.all(load[:, None, :] + use <= cap[:, None, :] + 1e-9, axis=2)
    fits &= (count < problem.max_tasks)[:, None]
    fits[source] = False
    options = np.where(fits, price[:, tasks], np.inf)
    target = options.argmin(axis=0)
    with np.errstate(invalid="ignore"):  # inf - inf: a task on an ineligible agent
        rise = options[target, np.arange(len(tasks))] - price[source, tasks]
    if not np.isfinite(rise).any():
        return None
    freed = np.maximum(use[source].max(axis=1), 1e-9)
    pick = int(np.argmin(np.where(np.isfinite(rise), rise / freed, np.inf)))
    return int(tasks[pick]), int(target[pick])


def overload_neighbourhood(
    problem: CompiledProblem, agent_usage: np.ndarray, attempt: int, rng: np.random.Generator
) -> np.ndarray:
    """Agents for the LNS's exact repair of a rounded plan: one overloaded agent (in turn)
    and the least-loaded others; grows every 8 tries."""
    capacity = np.maximum(problem.capacity.astype(np.float64), 1e-12)
    load = (agent_usage / capacity).max(axis=1)
    over = np.flatnonzero(load > 1 + 1e-9)
    size = min(problem.n_agents, 4 + attempt // 8)
    first = over[attempt % len(over)] if len(over) else int(rng.integers(len(load)))
    slack = np.argsort(load + rng.random(len(load)) * 0.2)
    return np.unique(np.r_[first, slack[: size - 1]])
