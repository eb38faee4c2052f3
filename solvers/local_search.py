"""Local search over units: shift (one unit to another agent) and swap (two units trade).

Every round scores all candidate moves as numpy arrays, then applies the best ones.
When the objective is separable over agents (cost, migrations, consolidation,
unassigned) many moves on disjoint agents are applied per round; otherwise only the
best move. Each applied move is re-checked against the live state first.
"""

from __future__ import annotations

import time

import numpy as np

from solvers.plan_scoring import ScoreModel
from solvers.regret_insertion import placement_scores
from solvers.task_units import FIT_TOLERANCE, PlanState

__all__ = ["local_search", "shift_round", "swap_sweep"]

_IMPROVEMENT = 1e-6  # smaller score changes are rounding noise
_CHUNK_ELEMENTS = 4_000_000
_SWAP_BLOCK_ELEMENTS = 2_000_000


def local_search(
    state: PlanState,
    model: ScoreModel,
    deadline: float,
    rng: np.random.Generator,
    *,
    max_rounds: int = 10_000,
) -> bool:
    """Shift and swap until no move improves, the deadline passes or max_rounds.

    Returns True when it stopped at a local optimum (not cut short).
    """
    for _ in range(max_rounds):
        if time.perf_counter() > deadline:
            return False
        if shift_round(state, model):
            continue
        if time.perf_counter() > deadline:
            return False
        if not swap_sweep(state, model, deadline, rng):
            return True
    return False


def shift_round(state: PlanState, model: ScoreModel) -> int:
    """Score every unit's best shift (to an agent or, if allowed, out); apply the best."""
    un = state.units
    n_units = un.n_units
    neighbour = model.neighbour_latency(state) if model.has_communication else None
    target = np.empty(n_units, dtype=np.int64)
    delta = np.empty(n_units)
    step = max(1, _CHUNK_ELEMENTS // max(un.n_agents, 1))
    for start in range(0, n_units, step):
        cols = np.arange(start, min(n_units, start + step))
        s = placement_scores(state, model, cols, neighbour=neighbour)
        best = np.argmin(s, axis=0)
        target[cols] = best
        delta[cols] = s[best, np.arange(len(cols))]
    if model.allow_unassigned:
        drop = _drop_delta(state, model, neighbour)
        better = drop < delta
        target[better] = -1
        delta[better] = drop[better]
    order = np.argsort(delta, kind="stable")
    order = order[delta[order] < -_IMPROVEMENT]
    touched = np.zeros(un.n_agents + 1, dtype=bool)  # slot -1 is "unassigned"
    applied = 0
    for u in order.tolist():
        a, b = int(state.assign[u]), int(target[u])
        if touched[a] or touched[b]:
            continue
        if b >= 0 and not state.fits(u, b):
            continue
        state.move(u, b)
        applied += 1
        if not model.separable:
            break
        touched[a] = touched[b] = True
        touched[-1] = False  # leaving units out never interferes
    return applied


def _drop_delta(state: PlanState, model: ScoreModel, neighbour: np.ndarray | None) -> np.ndarray:
    """Score change of leaving each unit out (inf for units already out)."""
    un = state.units
    a = state.assign.astype(np.int64)
    on = a >= 0
    cols = np.arange(un.n_units)
    delta = model.unassigned - model.current(state, cols)
    safe = np.maximum(a, 0)
    if model.has_load_terms:
        delta += model.load_delta(
            state,
            a,
            np.full(1, -1),
            state.load[safe] - un.duration[safe, cols],
            np.zeros(1),
            state.used[safe] - un.usage[safe, cols],
            np.zeros((1, un.usage.shape[2])),
            state.count[safe] - un.size,
            np.zeros(1, dtype=np.int64),
        )
    if neighbour is not None:
        delta -= model.w_communication * neighbour[safe, cols]
    return np.where(on, delta, np.inf)


def swap_sweep(
    state: PlanState, model: ScoreModel, deadline: float, rng: np.random.Generator
) -> int:
    """One pass of swap moves: blocks of units against all placed units."""
    placed = np.flatnonzero(state.assign >= 0)
    if len(placed) < 2:
        return 0
    neighbour = model.neighbour_latency(state) if model.has_communication else None
    d = state.units.usage.shape[2]
    block = max(8, _SWAP_BLOCK_ELEMENTS // (len(placed) * (d + 4)))
    applied = 0
    order = rng.permutation(placed)
    for start in range(0, len(order), block):
        if time.perf_counter() > deadline:
            break
        js = order[start : start + block]
        js = js[state.assign[js] >= 0]
        ks = np.flatnonzero(state.assign >= 0)
        applied += _swap_block(state, model, js, ks, neighbour)
        if applied and not model.separable and neighbour is not None:
            neighbour = model.neighbour_latency(state)
    return applied


def _swap_block(
    state: PlanState,
    model: ScoreModel,
    js: np.ndarray,
    ks: np.ndarray,
    neighbour: np.ndarray | None,
) -> int:
    un = state.units
    if not len(js):
        return 0
    aj = state.assign[js].astype(np.int64)
    ak = state.assign[ks].astype(np.int64)
    lin = model.linear
    # delta[k, j]: unit j moves to agent ak[k], unit k moves to agent aj[j].
    delta = (
        lin[np.ix_(ak, js)].astype(np.float64)
        + lin[np.ix_(aj, ks)].T
        - lin[aj, js][None, :]
        - lin[ak, ks][:, None]
    )
    ok = ak[:, None] != aj[None, :]
    ok &= un.eligible[np.ix_(ak, js)] & un.eligible[np.ix_(aj, ks)].T
    cap = un.capacity
    # Agent aj[j] loses j and gains k; agent ak[k] loses k and gains j.
    base_j = state.used[aj] - un.usage[aj, js]  # (J, d)
    base_k = state.used[ak] - un.usage[ak, ks]  # (K, d)
    new_j = base_j[None, :, :] + un.usage[np.ix_(aj, ks)].transpose(1, 0, 2)  # (K, J, d)
    new_k = base_k[:, None, :] + un.usage[np.ix_(ak, js)]  # (K, J, d)
    ok &= np.all(new_j <= cap[aj][None, :, :] + FIT_TOLERANCE, axis=2)
    ok &= np.all(new_k <= cap[ak][:, None, :] + FIT_TOLERANCE, axis=2)
    size = un.size
    cnt_j = (state.count[aj] - size[js])[None, :] + size[ks][:, None]
    cnt_k = (state.count[ak] - size[ks])[:, None] + size[js][None, :]
    ok &= (cnt_j <= un.max_tasks[aj][None, :]) & (cnt_k <= un.max_tasks[ak][:, None])
    if model.has_load_terms:
        load_j = (state.load[aj] - un.duration[aj, js])[None, :] + un.duration[np.ix_(aj, ks)].T
        load_k = (state.load[ak] - un.duration[ak, ks])[:, None] + un.duration[np.ix_(ak, js)]
        delta += model.load_delta(
            state, aj[None, :], ak[:, None], load_j, load_k, new_j, new_k, cnt_j, cnt_k
        )
    if neighbour is not None:
        # Ignores traffic between j and k themselves; the evaluator has the last word.
        delta += model.w_communication * (
            neighbour[np.ix_(ak, js)]
            - neighbour[aj, js][None, :]
            + neighbour[np.ix_(aj, ks)].T
            - neighbour[ak, ks][:, None]
        )
    delta[~ok] = np.inf
    best_k = np.argmin(delta, axis=0)
    best = delta[best_k, np.arange(len(js))]
    order = np.argsort(best, kind="stable")
    order = order[best[order] < -_IMPROVEMENT]
    touched = np.zeros(un.n_agents, dtype=bool)
    applied = 0
    for c in order.tolist():
        u, v = int(js[c]), int(ks[best_k[c]])
        a, b = int(state.assign[u]), int(state.assign[v])
        if a == b or touched[a] or touched[b] or a != aj[c] or b != ak[best_k[c]]:
            continue
        if not (state.fits(u, b, ignore=(v,)) and state.fits(v, a, ignore=(u,))):
            continue
        state.remove(u)
        state.remove(v)
        state.place(u, b)
        state.place(v, a)
        applied += 1
        if not model.separable:
            break
        touched[a] = touched[b] = True
    return applied
