"""Local search over designs: add a link, or add one and remove one or two (degree-keeping
swaps), accepting only moves that stay feasible and lower the objective; restarts with kicks.

Moves are scored by `DesignSpace.search_objective` (over-bandwidth designs pay a penalty per
unit of congestion), so a start that cannot carry its traffic is first repaired, and a
design that can is never traded for one that cannot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from networkx.algorithms.connectivity import local_node_connectivity

from solvers.topology.space import DesignSpace

__all__ = ["SearchOutcome", "improve"]

_EPS = 1e-9
#: Up to this many nodes every non-link is an add candidate and every link a removal one.
_EXHAUSTIVE_N = 30


@dataclass
class SearchOutcome:
    """The best design found, its objective, and how the search went."""

    adj: np.ndarray
    objective: float
    moves: int
    restarts: int
    timed_out: bool


class _State:
    def __init__(self, space: DesignSpace, adj: np.ndarray):
        self.space = space
        self.adj = adj.copy()
        self.dist = space.shortest(adj)
        self.objective = space.search_objective(adj, self.dist)

    def set(self, adj: np.ndarray, dist: np.ndarray, objective: float) -> None:
        self.adj, self.dist, self.objective = adj, dist, objective


def _add_gains(space: DesignSpace, dist: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Exact objective drop of adding each pair alone: O(n^2) per pair, vectorised."""
    gains = np.empty(len(pairs))
    upper = np.triu(space.traffic, 1)
    for p, (u, v) in enumerate(pairs):
        via = space.latency[u, v]
        new = np.minimum(
            dist,
            np.minimum(
                dist[:, u, None] + via + dist[None, v, :], dist[:, v, None] + via + dist[None, u, :]
            ),
        )
        gains[p] = float((upper * (dist - new)).sum()) - space.cost_weight * space.cost[u, v]
    return gains


def _add_candidates(space: DesignSpace, st: _State, rng: np.random.Generator, k: int) -> list:
    iu, ku = np.triu_indices(space.n, 1)
    free = ~st.adj[iu, ku]
    iu, ku = iu[free], ku[free]
    if not len(iu):
        return []
    if space.n > _EXHAUSTIVE_N:
        # Rank by the pair's own saving, then add a random sample for relay effects.
        proxy = space.traffic[iu, ku] * (st.dist[iu, ku] - space.latency[iu, ku])
        top = np.argsort(-proxy, kind="stable")[:k]
        sample = rng.choice(len(iu), size=min(k, len(iu)), replace=False)
        chosen = np.unique(np.concatenate([top, sample]))
        iu, ku = iu[chosen], ku[chosen]
    pairs = np.stack([iu, ku], axis=1)
    gains = _add_gains(space, st.dist, pairs)
    order = np.argsort(-gains, kind="stable")
    return [(int(pairs[p, 0]), int(pairs[p, 1])) for p in order if gains[p] > _EPS]


def _removal_pool(space: DesignSpace, st: _State, rng: np.random.Generator, k: int) -> list:
    iu, ku = np.nonzero(np.triu(st.adj, 1))
    edges = list(zip(iu.tolist(), ku.tolist(), strict=True))
    if space.n <= _EXHAUSTIVE_N or len(edges) <= k:
        return edges
    picks = rng.choice(len(edges), size=k, replace=False)
    return [edges[p] for p in picks]


def _keeps_connectivity(space: DesignSpace, adj: np.ndarray, removed: list) -> bool:
    """Removing links one at a time from a k-connected graph keeps it k-connected iff each
    removed link's ends stay k-connected; links added earlier only help."""
    k = space.min_connectivity
    if k < 2:
        return True
    if space.n <= _EXHAUSTIVE_N:
        return space.connectivity(adj) >= k
    trial = adj.copy()
    for a, b in removed:
        trial[a, b] = trial[b, a] = True
    for a, b in removed:
        trial[a, b] = trial[b, a] = False
        graph = space.graph_of(trial, attributes=False)
        if local_node_connectivity(graph, space.nodes[a], space.nodes[b]) < k:
            return False
    return True


def _try(space: DesignSpace, st: _State, adj: np.ndarray, removed: list) -> bool:
    """Accept `adj` if it is within degree and budget, improves, and keeps every constraint."""
    deg = adj.sum(axis=1)
    if space.max_degree is not None and deg.max() > space.max_degree:
        return False
    if space.link_budget is not None and space.link_cost(adj) > space.link_budget + _EPS:
        return False
    dist = space.shortest(adj)
    floor = st.objective - _EPS * max(1.0, abs(st.objective))
    # Shortest paths bound the routed objective from below: most moves stop here, unrouted.
    if not space.latency_objective(adj, dist) < floor:
        return False
    if space.max_diameter_ms is not None and dist.max() > space.max_diameter_ms + _EPS:
        return False
    if removed and not _keeps_connectivity(space, adj, removed):
        return False
    obj = space.search_objective(adj, dist)
    if not obj < floor:
        return False
    st.set(adj, dist, obj)
    return True


def _moves_for(space: DesignSpace, st: _State, u: int, v: int, pool: list) -> list:
    """Link sets (added, removed) that make room for u-v: plain add, one out, two out."""
    cap = space.max_degree
    deg = st.adj.sum(axis=1)
    full_u = cap is not None and deg[u] >= cap
    full_v = cap is not None and deg[v] >= cap
    at_u = [(u, int(a)) for a in np.flatnonzero(st.adj[u])]
    at_v = [(v, int(b)) for b in np.flatnonzero(st.adj[v])]
    moves: list = []
    if not full_u and not full_v:
        moves.append(([(u, v)], []))
        moves += [([(u, v)], [e]) for e in pool]
    elif full_u and full_v:
        for _, a in at_u:
            for _, b in at_v:
                if a == b:
                    continue
                # Re-linking the two orphans keeps every degree: a double-edge swap.
                extra = [(a, b)] if not st.adj[a, b] else []
                moves.append(([(u, v), *extra], [(u, a), (v, b)]))
                if extra:
                    moves.append(([(u, v)], [(u, a), (v, b)]))
    else:
        moves += [([(u, v)], [e]) for e in (at_u if full_u else at_v)]
    return moves


def _has_room(space: DesignSpace, st: _State, u: int, v: int) -> bool:
    cap = space.max_degree
    if cap is not None and (st.adj[u].sum() >= cap or st.adj[v].sum() >= cap):
        return False
    budget = space.link_budget
    return budget is None or space.link_cost(st.adj) + space.cost[u, v] <= budget + _EPS


def _apply(adj: np.ndarray, added: list, removed: list) -> np.ndarray:
    out = adj.copy()
    for a, b in removed:
        out[a, b] = out[b, a] = False
    for a, b in added:
        out[a, b] = out[b, a] = True
    return out


def _descend(space: DesignSpace, st: _State, rng: np.random.Generator, deadline: float) -> int:
    """First-improvement descent until no candidate move helps. Returns the moves made."""
    moves = 0
    width = 40
    while time.perf_counter() < deadline:
        improved = False
        pool = _removal_pool(space, st, rng, 8)
        candidates = _add_candidates(space, st, rng, width)
        # Plain additions first: they need no removal, so they rarely fail and cost one pass.
        for u, v in candidates:
            if _has_room(space, st, u, v) and _try(space, st, _apply(st.adj, [(u, v)], []), []):
                improved = True
                break
        for u, v in [] if improved else candidates[:25]:
            for added, removed in _moves_for(space, st, u, v, pool):
                if _try(space, st, _apply(st.adj, added, removed), removed):
                    improved = True
                    break
            if improved or time.perf_counter() >= deadline:
                break
        if not improved and space.cost_weight > 0:
            for e in _removal_pool(space, st, rng, 16):
                if _try(space, st, _apply(st.adj, [], [e]), [e]):
                    improved = True
                    break
        if improved:
            moves += 1
            continue
        if space.n <= _EXHAUSTIVE_N or width >= 160:
            break
        width *= 2  # a local optimum for this sample: look wider before giving up
    return moves


def _kick(space: DesignSpace, adj: np.ndarray, rng: np.random.Generator, swaps: int) -> np.ndarray:
    """Random degree-keeping double-edge swaps (a-b, c-d -> a-c, b-d) to leave a local optimum."""
    out = adj.copy()
    for _ in range(swaps * 10):
        if swaps == 0:
            break
        iu, ku = np.nonzero(np.triu(out, 1))
        if len(iu) < 2:
            break
        p, q = rng.choice(len(iu), size=2, replace=False)
        a, b, c, d = int(iu[p]), int(ku[p]), int(iu[q]), int(ku[q])
        if len({a, b, c, d}) < 4 or out[a, c] or out[b, d]:
            continue
        trial = _apply(out, [(a, c), (b, d)], [(a, b), (c, d)])
        if space.structurally_feasible(trial):
            out = trial
            swaps -= 1
    return out


def improve(
    space: DesignSpace, adj: np.ndarray, *, time_limit_s: float = 10.0, seed: int = 0
) -> SearchOutcome:
    """Iterated local search from a design meeting every constraint but perhaps bandwidth;
    returns the best design seen and its `DesignSpace.objective` (penalty left out)."""
    start = time.perf_counter()
    deadline = start + time_limit_s
    rng = np.random.default_rng(seed)
    st = _State(space, adj)
    moves = _descend(space, st, rng, deadline)
    best = _State(space, st.adj)
    restarts = 0
    # Kicks pay off on small instances, where one descent takes milliseconds.
    while space.n <= _EXHAUSTIVE_N and time.perf_counter() < deadline and restarts < 40:
        restarts += 1
        st = _State(space, _kick(space, best.adj, rng, swaps=2))
        moves += _descend(space, st, rng, deadline)
        if st.objective < best.objective - _EPS:
            best = st
    return SearchOutcome(
        adj=best.adj,
        objective=space.objective(best.adj, best.dist),
        moves=moves,
        restarts=restarts,
        timed_out=time.perf_counter() >= deadline,
    )
