"""Ejection moves: make room for a unit no agent can take by evicting others.

Used when construction leaves units out that must be placed (or, with
allow_unassigned, higher-priority units that lower-priority ones block). Evicted
units are re-inserted by regret; a chain step (one evicted unit left waiting in the
place of the one just placed) lets tight instances random-walk towards feasibility.
"""

from __future__ import annotations

import time

import numpy as np

from solvers.heuristic.regret_insertion import regret_insert
from solvers.heuristic.scoring import ScoreModel
from solvers.heuristic.task_units import PlanState

__all__ = ["repair_by_ejection"]

_AGENTS_TRIED = 6


def repair_by_ejection(
    state: PlanState,
    model: ScoreModel,
    waiting: np.ndarray,
    rng: np.random.Generator,
    deadline: float,
    *,
    prices: np.ndarray | None = None,
    max_steps: int = 2_000,
) -> np.ndarray:
    """Try to place every unit in `waiting`; returns the units still left out."""
    waiting_list = [int(u) for u in waiting if not state.units.self_conflict[u]]
    hopeless = [int(u) for u in waiting if state.units.self_conflict[u]]
    tabu: dict[int, int] = {}
    for step in range(max_steps):
        if not waiting_list or time.perf_counter() > deadline:
            break
        # Most important and biggest first: they have the fewest ways in.
        waiting_list.sort(key=lambda u: (state.units.rank[u], -state.units.size[u]))
        u = waiting_list.pop(0)
        left = _eject_for(state, model, u, rng, tabu, step, prices)
        if left is None:
            waiting_list.append(u)
            if len(waiting_list) == 1 and step > max_steps // 2:
                break
            continue
        tabu[u] = step
        waiting_list.extend(int(v) for v in left)
    return np.array(waiting_list + hopeless, dtype=np.int64)


def _eject_for(
    state: PlanState,
    model: ScoreModel,
    u: int,
    rng: np.random.Generator,
    tabu: dict[int, int],
    step: int,
    prices: np.ndarray | None,
) -> np.ndarray | None:
    """Place u by evicting units from one agent; None if no agent works.

    Returns the evicted units that could not be re-inserted (at most one, and only
    for a chain step), which the caller keeps waiting.
    """
    un = state.units
    candidates = np.flatnonzero(un.eligible[:, u])
    if not len(candidates):
        return None
    cap = np.maximum(un.capacity[candidates], 1e-9)
    over = (state.used[candidates] + un.usage[candidates, u] - un.capacity[candidates]) / cap
    # Least overflow first, with noise so repeated attempts explore different agents.
    key = over.max(axis=1) + rng.uniform(0, 0.05, len(candidates))
    tenure = 7 + int(rng.integers(0, 5))
    for i in candidates[np.argsort(key)][:_AGENTS_TRIED].tolist():
        victims = _victims(state, u, i, tabu, step, tenure, model.allow_unassigned)
        if victims is None:
            continue
        before = model.total(state) if model.allow_unassigned else 0.0
        snapshot = {int(v): i for v in victims}
        for v in victims:
            state.remove(int(v))
        if not state.fits(u, i):
            for v, agent in snapshot.items():
                state.place(v, agent)
            continue
        state.place(u, i)
        left = regret_insert(state, model, victims, prices=prices)
        good = len(left) <= 1
        if model.allow_unassigned:
            good = model.total(state) < before - 1e-9
        if good:
            return left
        # Undo: take back the re-inserted victims and u, restore the victims on i.
        for v in victims.tolist():
            state.remove(int(v))
        state.remove(u)
        for v, agent in snapshot.items():
            state.place(v, agent)
    return None


def _victims(
    state: PlanState,
    u: int,
    i: int,
    tabu: dict[int, int],
    step: int,
    tenure: int,
    lower_priority_only: bool,
) -> np.ndarray | None:
    """Units on agent i whose removal makes room for u (anti-affinity partners first)."""
    un = state.units
    on_i = np.flatnonzero(state.assign == i)
    partners = np.zeros(len(on_i), dtype=bool)
    if un.n_groups:
        mine = un.groups_of(u)
        if len(mine):
            partners = np.asarray((un.aa[on_i][:, mine]).sum(axis=1)).ravel() > 0
    # Recently placed units stay put, so the walk does not undo its own last steps.
    free = np.array([step - tabu.get(int(v), -(10**9)) > tenure for v in on_i], dtype=bool)
    if np.any(partners & ~free):
        return None
    if lower_priority_only:
        # Units may stay out: only evict less important ones, or nothing is gained.
        free &= un.rank[on_i] > un.rank[u]
    need = state.used[i] + un.usage[i, u] - un.capacity[i]
    need_count = state.count[i] + un.size[u] - un.max_tasks[i]
    chosen = list(on_i[partners])
    freed = un.usage[i, on_i[partners]].sum(axis=0)
    freed_count = int(un.size[on_i[partners]].sum())
    rest = on_i[~partners & free]
    if len(rest):
        scale = np.maximum(un.capacity[i], 1e-9)
        weight = np.where(need > 0, 1.0, 0.0) / scale
        # Evict the units that free most of the short dimensions per unit evicted.
        gain = (un.usage[i, rest] * weight).sum(axis=1) + state.units.size[rest] * (need_count > 0)
        rest = rest[np.argsort(-gain)]
    for v in rest.tolist():
        if np.all(freed >= need - 1e-9) and freed_count >= need_count:
            break
        chosen.append(v)
        freed = freed + un.usage[i, v]
        freed_count += int(un.size[v])
    if not (np.all(freed >= need - 1e-9) and freed_count >= need_count):
        return None
    return np.array(chosen, dtype=np.int64)
