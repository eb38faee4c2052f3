"""Local search over units: shift (one unit to another agent) and swap (two units trade).

Every round scores all candidate moves as numpy arrays, then applies the best ones.
When the objective is separable over agents (cost, migrations, consolidation,
unassigned) many moves on disjoint agents are applied per round; otherwise only the
best move. Each applied move is re-checked against the live state first.
"""

from __future__ import annotations

import time

import numpy as np

from solvers.heuristic.regret_insertion import placement_scores
from solvers.heuristic.scoring import ScoreModel
from solvers.heuristic.task_units import FIT_TOLERANCE, PlanState

__all__ = ["local_search", "shift_round", "swap_sweep"]

_IMPROVEMENT = 1e-6  # smaller score changes are rounding noise
_CHUNK_ELEMENTS = 4_000_000
_SWAP_BLOCK_ELEMENTS = 1_000_000


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
        if shift_round(state, model, deadline):
            continue
        if time.perf_counter() > deadline:
            return False
        if not swap_sweep(state, model, deadline, rng):
            return True
    return False


def shift_round(state: PlanState, model: ScoreModel, deadline: float = np.inf) -> int:
    """Score every unit's best shift (to an agent or, if allowed, out); apply the best.

    Past `deadline` between chunks it gives up the round (0 moves): on 20,000 x 500 one
    round takes about half a second, which the request's limit cannot absorb.
    """
    un = state.units
    n_units = un.n_units
    neighbour = model.neighbour_latency(state) if model.has_communication else None
    target = np.empty(n_units, dtype=np.int64)
    delta = np.empty(n_units)
    step = max(1, _CHUNK_ELEMENTS // max(un.n_agents, 1))
    for start in range(0, n_units, step):
        if start and time.perf_counter() > deadline:
            return 0
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
    block = max(8, _SWAP_BLOCK_ELEMENTS // len(placed))
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
    # lin_delta[k, j]: unit j moves to agent ak[k], unit k moves to agent aj[j].
    lin_delta = (
        lin[np.ix_(ak, js)].astype(np.float64)
        + lin[np.ix_(aj, ks)].T
        - lin[aj, js][None, :]
        - lin[ak, ks][:, None]
    )
    candidate = ak[:, None] != aj[None, :]
    if not (model.has_load_terms or neighbour is not None):
        # Only the linear part moves: pairs that do not improve it are never worth checking.
        candidate &= lin_delta < -_IMPROVEMENT
    kk, jj = np.nonzero(candidate)
    if not len(kk):
        return 0
    a, b, u, v = aj[jj], ak[kk], js[jj], ks[kk]
    delta = lin_delta[kk, jj]
    ok = un.eligible[b, u] & un.eligible[a, v]
    # Agent a loses u and gains v; agent b loses v and gains u.
    new_a = state.used[a] - un.usage[a, u] + un.usage[a, v]
    new_b = state.used[b] - un.usage[b, v] + un.usage[b, u]
    cap = un.capacity + FIT_TOLERANCE
    ok &= np.all(new_a <= cap[a], axis=1) & np.all(new_b <= cap[b], axis=1)
    cnt_a = state.count[a] - un.size[u] + un.size[v]
    cnt_b = state.count[b] - un.size[v] + un.size[u]
    ok &= (cnt_a <= un.max_tasks[a]) & (cnt_b <= un.max_tasks[b])
    if model.has_load_terms:
        load_a = state.load[a] - un.duration[a, u] + un.duration[a, v]
        load_b = state.load[b] - un.duration[b, v] + un.duration[b, u]
        delta = delta + model.load_delta(state, a, b, load_a, load_b, new_a, new_b, cnt_a, cnt_b)
    if neighbour is not None:
        # Ignores traffic between u and v themselves; the evaluator has the last word.
        delta = delta + model.w_communication * (
            neighbour[b, u] - neighbour[a, u] + neighbour[a, v] - neighbour[b, v]
        )
    delta = np.where(ok, delta, np.inf)
    order = np.lexsort((delta, jj))
    first = np.r_[True, jj[order][1:] != jj[order][:-1]]
    best = order[first]
    best = best[np.argsort(delta[best], kind="stable")]
    best = best[delta[best] < -_IMPROVEMENT]
    touched = np.zeros(un.n_agents, dtype=bool)
    applied = 0
    for c in best.tolist():
        x, y = int(u[c]), int(v[c])
        ax, ay = int(state.assign[x]), int(state.assign[y])
        if ax == ay or touched[ax] or touched[ay] or ax != a[c] or ay != b[c]:
            continue
        if not (state.fits(x, ay, ignore=(y,)) and state.fits(y, ax, ignore=(x,))):
            continue
        state.remove(x)
        state.remove(y)
        state.place(x, ay)
        state.place(y, ax)
        applied += 1
        if not model.separable:
            break
        touched[ax] = touched[ay] = True
    return applied
