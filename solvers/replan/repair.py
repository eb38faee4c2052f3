"""CP-SAT repair for a re-plan the greedy pass could not complete: place every task
with the move budget as a hard constraint (kept tasks off their previous agent <= K).

Only the tasks that can matter are variables: the unplaced ones, and the tasks sitting
on agents that could take one of them; every other task stays where it is and only
reduces its agent's capacity. Capacities are scaled to integers; a plan whose rounding
breaks a capacity is rejected by the caller's evaluation, never reported.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from models.compiled import CompiledProblem
from solvers.replan.search_limits import MAX_REPAIR_PAIRS

__all__ = ["MAX_REPAIR_PAIRS", "repair_with_budget"]

_SCALE = 10_000
_MOVE_WEIGHT = 10**9
_TOLERANCE = 1e-6  # evaluate_plan's capacity tolerance
_POLISH_S = 0.3


def repair_with_budget(
    problem: CompiledProblem,
    previous: np.ndarray,
    hint: np.ndarray,
    kept: np.ndarray,
    pinned: set[int],
    max_moves: int | None,
    time_limit_s: float,
) -> np.ndarray | None:
    """`hint` with every unplaced task placed, moving at most `max_moves` kept tasks.

    `kept` (bool[n]) marks tasks whose move counts against the budget; `pinned` tasks
    stay put. Returns None when CP-SAT finds nothing in time or the model is too big.
    """
    if int(problem.eligible.sum()) > MAX_REPAIR_PAIRS or time_limit_s <= 0.05:
        return None
    movable = _movable(problem, hint, pinned)
    fixed_moves = int((kept & ~movable & (hint != previous)).sum())
    budget = None if max_moves is None else max_moves - fixed_moves
    if budget is not None and budget < 0:
        return None
    model = cp_model.CpModel()
    x = {
        (int(i), int(j)): model.new_bool_var(f"x{i}_{j}")
        for i, j in zip(*np.nonzero(problem.eligible[:, movable]), strict=True)
    }
    tasks = np.flatnonzero(movable)
    x = {(i, int(tasks[col])): v for (i, col), v in x.items()}
    for j in tasks.tolist():
        model.add_exactly_one([x[i, j] for i in np.flatnonzero(problem.eligible[:, j]).tolist()])
    _capacities(model, problem, hint, movable, x)
    _groups(model, problem, hint, movable, x)
    moves = []
    for j in tasks.tolist():
        if kept[j] and previous[j] >= 0:
            stay = x.get((int(previous[j]), j))
            moves.append(1 - stay if stay is not None else 1)
        elif kept[j]:
            moves.append(1)
    if budget is not None:
        model.add(sum(moves) <= budget)
    # Fewest moves first (what is left of the budget goes to the local search after
    # it), then cost.
    cost = sum(round(float(problem.cost[i, j]) * 100) * v for (i, j), v in x.items())
    model.minimize(sum(moves) * _MOVE_WEIGHT + cost)
    for (i, j), var in x.items():
        model.add_hint(var, int(hint[j] == i))
    started = time.perf_counter()
    solver = _solver(time_limit_s, first_only=True)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    values = {key: solver.value(var) for key, var in x.items()}
    left = time_limit_s - (time.perf_counter() - started)
    if status == cp_model.FEASIBLE and left > 0.05:
        # A short second pass from the first placement: fewer moves, lower cost.
        model.clear_hints()
        for key, var in x.items():
            model.add_hint(var, values[key])
        better = _solver(min(_POLISH_S, left), first_only=False)
        if better.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = {key: better.value(var) for key, var in x.items()}
    out = np.asarray(hint, dtype=np.int64).copy()
    for (i, j), value in values.items():
        if value:
            out[j] = i
    return out


def _solver(time_limit_s: float, *, first_only: bool) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    solver.parameters.stop_after_first_solution = first_only
    return solver


def _movable(problem: CompiledProblem, hint: np.ndarray, pinned: set[int]) -> np.ndarray:
    """Unplaced tasks, and unpinned tasks on agents that could take an unplaced one."""
    # A task no agent can take stays out: it would make the whole model infeasible.
    free = (np.asarray(hint) < 0) & problem.eligible.any(axis=0)
    relevant = np.asarray(problem.eligible[:, free].any(axis=1), dtype=bool)
    movable = free | ((hint >= 0) & relevant[np.maximum(hint, 0)])
    if pinned:
        movable[list(pinned)] = False
    return movable


def _capacities(
    model: cp_model.CpModel,
    problem: CompiledProblem,
    hint: np.ndarray,
    movable: np.ndarray,
    x: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    m = problem.n_agents
    fixed = np.flatnonzero(~movable & (hint >= 0))
    owner = hint[fixed]
    fixed_count = np.bincount(owner, minlength=m)
    by_agent: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(m)]
    for (i, j), var in x.items():
        by_agent[i].append((j, var))
    for i, pairs in enumerate(by_agent):
        if not pairs:
            continue
        slots = int(problem.max_tasks[i]) - int(fixed_count[i])
        if slots < len(pairs):
            model.add(sum(v for _, v in pairs) <= max(slots, 0))
        for k in range(problem.n_dims):
            used = float(problem.usage[i, fixed[owner == i], k].astype(np.float64).sum())
            cap = float(problem.capacity[i, k])
            room = cap * (1 + _TOLERANCE) + _TOLERANCE - used
            terms = [
                int(np.ceil(float(problem.usage[i, j, k]) * _SCALE - 1e-6)) * v for j, v in pairs
            ]
            model.add(sum(terms) <= int(np.floor(room * _SCALE)))


def _groups(
    model: cp_model.CpModel,
    problem: CompiledProblem,
    hint: np.ndarray,
    movable: np.ndarray,
    x: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    for group in problem.anti_affinity:
        taken = {int(hint[j]) for j in group.tolist() if not movable[j] and hint[j] >= 0}
        for i in range(problem.n_agents):
            here = [x[i, int(j)] for j in group if (i, int(j)) in x]
            if i in taken:
                for var in here:
                    model.add(var == 0)
            elif len(here) > 1:
                model.add(sum(here) <= 1)
    for group in problem.co_location:
        anchors = {int(hint[j]) for j in group.tolist() if not movable[j]}
        members = [int(j) for j in group if movable[j]]
        if len(anchors) > 1 or not members:
            continue  # already split by tasks that stay, or nothing to place
        if anchors:
            home = anchors.pop()
            for j in members:
                at_home = x.get((home, j))
                if at_home is None:
                    model.add_bool_or([])  # it cannot join its group: no repair
                else:
                    model.add(at_home == 1)
            continue
        for other in members[1:]:
            for i in range(problem.n_agents):
                a, b = x.get((i, members[0])), x.get((i, other))
                if a is None and b is None:
                    continue
                model.add((a if a is not None else 0) == (b if b is not None else 0))
