"""Regret-based insertion: place the unit that would lose most by waiting, first.

Regret = second-best minus best feasible placement score. Regrets are recomputed
for all waiting units once per batch rather than after every placement; the batch
is a fraction of the waiting units chosen so the total work stays near a fixed
number of array elements (exact one-at-a-time regret on small problems, a few
dozen vectorised passes on 20,000 x 500).
"""

from __future__ import annotations

import time

import numpy as np

from solvers.heuristic.scoring import ScoreModel
from solvers.heuristic.task_units import FIT_TOLERANCE, PlanState

__all__ = ["placement_scores", "regret_insert"]

_CHUNK_ELEMENTS = 4_000_000  # agents x units per vectorised block
_WORK_BUDGET = 8e6  # elements scored over a whole construction (~20 numpy ops each)
_URGENT = 1e30  # regret of a unit with a single feasible agent
#: Scores a batch placement takes at once (float64: 128 MiB); 20,000 x 500 is one slice.
_BATCH_SCORE_ELEMENTS = 16_000_000


def placement_scores(
    state: PlanState,
    model: ScoreModel,
    cols: np.ndarray,
    *,
    prices: np.ndarray | None = None,
    neighbour: np.ndarray | None = None,
) -> np.ndarray:
    """float64[m, len(cols)]: score change of moving each unit to each agent; inf if it cannot.

    For an unassigned unit the change is relative to leaving it out. The unit's own
    agent is inf. `prices` (float[m, d], construction only) add the price of the
    room the unit would take, steering tight instances towards feasibility.
    """
    un = state.units
    m = un.n_agents
    cols = np.asarray(cols, dtype=np.int64)
    k = np.arange(len(cols))
    a = state.assign[cols].astype(np.int64)
    rem = state.remaining()
    # A run of consecutive units (a construction's chunks) is read as views, not copies.
    run = len(cols) > 0 and bool(np.all(np.diff(cols) == 1))
    pick = slice(int(cols[0]), int(cols[-1]) + 1) if run else cols
    usage = un.usage[:, pick, :]
    fit = un.eligible[:, pick].copy()
    for dim in range(usage.shape[2]):  # per dimension: no m x U x d boolean temporary
        fit &= usage[:, :, dim] <= rem[:, dim, None] + FIT_TOLERANCE
    fit &= state.count[:, None] + un.size[cols][None, :] <= un.max_tasks[:, None]
    forbidden = state.forbidden(cols)
    if forbidden is not None:
        fit &= ~forbidden.T
    on = a >= 0
    fit[a[on], k[on]] = False
    scores = model.linear[:, pick].astype(np.float64) - model.current(state, cols)[None, :]
    if model.has_load_terms:
        safe = np.maximum(a, 0)
        scores += model.load_delta(
            state,
            a[None, :],
            np.arange(m)[:, None],
            (state.load[safe] - un.duration[safe, cols])[None, :],
            state.load[:, None] + un.duration[:, cols],
            (state.used[safe] - un.usage[safe, cols])[None, :, :],
            state.used[:, None, :] + usage,
            (state.count[safe] - un.size[cols])[None, :],
            state.count[:, None] + un.size[cols][None, :],
        )
    if neighbour is not None:
        here = np.where(on, neighbour[np.maximum(a, 0), cols], 0.0)
        scores += model.w_communication * (neighbour[:, cols] - here[None, :])
    if prices is not None:
        scores += np.einsum("ikd,id->ik", usage, prices)
    scores[~fit] = np.inf
    return scores


def _top_two(
    state: PlanState, model: ScoreModel, cols: np.ndarray, prices: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = state.units.n_agents
    neighbour = model.neighbour_latency(state) if model.has_communication else None
    best = np.empty(len(cols), dtype=np.int64)
    c1 = np.empty(len(cols))
    c2 = np.empty(len(cols))
    step = max(1, _CHUNK_ELEMENTS // max(m, 1))
    for start in range(0, len(cols), step):
        part = cols[start : start + step]
        s = placement_scores(state, model, part, prices=prices, neighbour=neighbour)
        k = np.arange(len(part))
        b = np.argmin(s, axis=0)
        best[start : start + len(part)] = b
        c1[start : start + len(part)] = s[b, k]
        s[b, k] = np.inf
        c2[start : start + len(part)] = s.min(axis=0) if m > 1 else np.inf
    return best, c1, c2


def regret_insert(
    state: PlanState,
    model: ScoreModel,
    cols: np.ndarray,
    *,
    prices: np.ndarray | None = None,
    deadline: float = np.inf,
) -> np.ndarray:
    """Insert units `cols` (currently unassigned) by regret; returns those left out.

    A unit is left out when no agent can take it now, or when leaving it out scores
    better (allowed only with allow_unassigned). With allow_unassigned, higher
    priority classes are inserted first so low priority is what gets dropped.
    """
    un = state.units
    waiting = np.asarray(cols, dtype=np.int64)
    left_out: list[np.ndarray] = []
    d = un.usage.shape[2]
    frac = float(np.clip(un.n_agents * max(len(waiting), 1) * d / _WORK_BUDGET, 0.002, 1.0))
    while waiting.size:
        best, c1, c2 = _top_two(state, model, waiting, prices)
        stuck = ~np.isfinite(c1)
        if model.allow_unassigned:
            stuck |= c1 - _steering(state, prices, best, waiting) >= 0
        if stuck.any():
            left_out.append(waiting[stuck])
            keep = ~stuck
            waiting, best, c1, c2 = waiting[keep], best[keep], c1[keep], c2[keep]
            if not waiting.size:
                break
        regret = np.where(np.isfinite(c2), c2 - c1, _URGENT)
        if model.allow_unassigned:
            order = np.lexsort((-regret, un.rank[waiting]))
        else:
            order = np.argsort(-regret, kind="stable")
        batch = order[: max(1, int(np.ceil(frac * len(waiting))))]
        placed = np.zeros(len(waiting), dtype=bool)
        if len(batch) == 1:
            k = int(batch[0])
            state.place(int(waiting[k]), int(best[k]))
            placed[k] = True
        else:
            placed[batch] = _place_batch(state, model, waiting[batch], prices)
        waiting = waiting[~placed]
        if time.perf_counter() > deadline:
            # Out of time: finish in one batch; a plan with holes helps nobody.
            frac = 1.0
    return np.concatenate(left_out) if left_out else np.zeros(0, dtype=np.int64)


def _place_batch(
    state: PlanState, model: ScoreModel, batch: np.ndarray, prices: np.ndarray | None
) -> np.ndarray:
    """Place a batch in regret order, each on its best agent that still has room.

    Scores are taken once per slice of the batch (the whole batch when its scores fit
    in `_BATCH_SCORE_ELEMENTS`); room is re-checked exactly per unit, so earlier
    placements only push a unit to its next-best agent.
    """
    un = state.units
    step = max(1, _BATCH_SCORE_ELEMENTS // max(un.n_agents, 1))
    cap = un.capacity + FIT_TOLERANCE
    in_groups = np.diff(un.aa_indptr) > 0
    placed = np.zeros(len(batch), dtype=bool)
    for start in range(0, len(batch), step):
        part = batch[start : start + step]
        scores, at = _scores_in_unit_order(state, model, part, prices)
        for k, u in enumerate(part.tolist()):
            if _place_one(state, model, u, scores[:, at[k]], cap, in_groups, prices):
                placed[start + k] = True
    return placed


def _scores_in_unit_order(
    state: PlanState, model: ScoreModel, part: np.ndarray, prices: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of `part` taken in unit order (a whole construction is then one run of
    views), and `at[k]`, the column of part[k]."""
    by_unit = np.argsort(part, kind="stable")
    scores = placement_scores(state, model, part[by_unit], prices=prices)
    at = np.empty(len(part), dtype=np.int64)
    at[by_unit] = np.arange(len(part))
    return scores, at


def _place_one(
    state: PlanState,
    model: ScoreModel,
    u: int,
    own: np.ndarray,
    cap: np.ndarray,
    in_groups: np.ndarray,
    prices: np.ndarray | None,
) -> bool:
    """Place unit u on its best agent with room now (scores `own` from the slice start)."""
    un = state.units
    # Placements only ever shrink the feasible set, so the slice-start mask is a
    # valid superset; room and anti-affinity are re-checked against live totals.
    ok = np.isfinite(own)
    ok &= np.all(state.used + un.usage[:, u, :] <= cap, axis=1)
    ok &= state.count + un.size[u] <= un.max_tasks
    if in_groups[u]:
        groups = un.groups_of(u)
        ok &= state.group_count[groups].sum(axis=0) == 0
    column = np.where(ok, own, np.inf)
    i = int(np.argmin(column))
    limit = np.inf
    if model.allow_unassigned:
        limit = float(_steering(state, prices, np.array([i]), np.array([u]))[0])
    if column[i] < limit:
        state.place(u, i)
        return True
    return False


def _steering(
    state: PlanState, prices: np.ndarray | None, agents: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """The price part of a steered score (0 without prices), to judge leaving a unit out."""
    if prices is None:
        return np.zeros(len(cols))
    safe = np.maximum(agents, 0)
    return (state.units.usage[safe, cols] * prices[safe]).sum(axis=1)


def relaxed_start(state: PlanState, model: ScoreModel, prices: np.ndarray) -> np.ndarray:
    """Lagrangian heuristic: every unit on its least priced-score agent, then unpack.

    Overloaded agents shed the units that lose least by moving (smallest priced
    regret) until they fit; the shed units are re-inserted by priced regret.
    Returns the units left out. Expects an empty state.
    """
    un = state.units
    cols = np.arange(un.n_units)
    best, c1, c2 = _top_two(state, model, cols, prices)
    ok = np.isfinite(c1)
    for u in cols[ok].tolist():
        state.place(u, int(best[u]))
    regret = np.where(np.isfinite(c2), c2 - c1, _URGENT)
    shed: list[int] = [int(u) for u in cols[~ok]]
    cap = un.capacity + FIT_TOLERANCE
    over = np.flatnonzero(np.any(state.used > cap, axis=1) | (state.count > un.max_tasks))
    for i in over.tolist():
        on_i = np.flatnonzero(state.assign == i)
        for u in on_i[np.argsort(regret[on_i], kind="stable")].tolist():
            if np.all(state.used[i] <= cap[i]) and state.count[i] <= un.max_tasks[i]:
                break
            state.remove(u)
            shed.append(u)
    # Anti-affinity clashes the relaxation ignored: shed all but one per agent.
    if un.n_groups:
        for u in np.flatnonzero(state.assign >= 0).tolist():
            i = int(state.assign[u])
            if not state.fits_after_removal(u, i):
                state.remove(u)
                shed.append(u)
    return regret_insert(state, model, np.array(shed, dtype=np.int64), prices=prices)
