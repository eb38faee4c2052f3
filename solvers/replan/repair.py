"""CP-SAT repair for a re-plan the greedy pass could not complete: place every task
with the move budget as a hard constraint (sum of kept tasks off their previous agent <= K).

Capacities are scaled to integers; a plan whose rounding breaks a capacity is
rejected by the caller's evaluation, never reported.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from models.compiled import CompiledProblem

__all__ = ["MAX_REPAIR_PAIRS", "repair_with_budget"]

#: Above this many (agent, task) pairs the model is too big to help within seconds.
MAX_REPAIR_PAIRS = 200_000
_SCALE = 10_000
_MOVE_WEIGHT = 10**9


def repair_with_budget(
    problem: CompiledProblem,
    previous: np.ndarray,
    hint: np.ndarray,
    kept: np.ndarray,
    pinned: set[int],
    max_moves: int | None,
    time_limit_s: float,
) -> np.ndarray | None:
    """An assignment placing every task (unless unassigned is allowed) within the budget.

    `kept` (bool[n]) marks tasks whose move counts; `pinned` tasks stay on `previous`.
    Returns None when CP-SAT finds nothing in time or the model would be too big.
    """
    m, n = problem.n_agents, problem.n_tasks
    if int(problem.eligible.sum()) > MAX_REPAIR_PAIRS or time_limit_s <= 0.05:
        return None
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for i, j in zip(*np.nonzero(problem.eligible), strict=True):
        x[int(i), int(j)] = model.new_bool_var(f"x{i}_{j}")
    by_task: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(n)]
    by_agent: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(m)]
    for (i, j), var in x.items():
        by_task[j].append((i, var))
        by_agent[i].append((j, var))
    for j in range(n):
        row = [v for _, v in by_task[j]]
        if problem.allow_unassigned:
            model.add(sum(row) <= 1)
        else:
            model.add_exactly_one(row)
    _capacities(model, problem, by_agent)
    _groups(model, problem, x)
    moves = []
    for j in range(n):
        stay = x.get((int(previous[j]), j)) if previous[j] >= 0 else None
        if j in pinned:
            if stay is None:
                return None
            model.add(stay == 1)
        elif kept[j]:
            moves.append(1 - stay if stay is not None else 1)
    if max_moves is not None:
        model.add(sum(moves) <= max_moves)
    # Fewest moves first (what is left of the budget goes to the local search that
    # follows), then cost; the local search polishes the other objectives.
    cost = sum(round(float(problem.cost[i, j]) * 100) * v for (i, j), v in x.items())
    model.minimize(sum(moves) * _MOVE_WEIGHT + cost)
    for (i, j), var in x.items():
        model.add_hint(var, int(hint[j] == i))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out = np.full(n, -1, dtype=np.int64)
    for (i, j), var in x.items():
        if solver.value(var):
            out[j] = i
    return out


def _capacities(
    model: cp_model.CpModel,
    problem: CompiledProblem,
    by_agent: list[list[tuple[int, cp_model.IntVar]]],
) -> None:
    for i, pairs in enumerate(by_agent):
        if not pairs:
            continue
        if problem.max_tasks[i] < len(pairs):
            model.add(sum(v for _, v in pairs) <= int(problem.max_tasks[i]))
        for k in range(problem.n_dims):
            cap = float(problem.capacity[i, k])
            limit = int(np.floor((cap * (1 + 1e-6) + 1e-6) * _SCALE))
            terms = [
                int(np.ceil(float(problem.usage[i, j, k]) * _SCALE - 1e-6)) * v for j, v in pairs
            ]
            model.add(sum(terms) <= limit)


def _groups(
    model: cp_model.CpModel, problem: CompiledProblem, x: dict[tuple[int, int], cp_model.IntVar]
) -> None:
    for group in problem.anti_affinity:
        for i in range(problem.n_agents):
            here = [x[i, int(j)] for j in group if (i, int(j)) in x]
            if len(here) > 1:
                model.add(sum(here) <= 1)
    for group in problem.co_location:
        first = int(group[0])
        for other in group[1:].tolist():
            for i in range(problem.n_agents):
                a, b = x.get((i, first)), x.get((i, other))
                if a is None and b is None:
                    continue
                model.add((a if a is not None else 0) == (b if b is not None else 0))
