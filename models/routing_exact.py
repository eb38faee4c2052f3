"""Exact routing within bandwidth on small networks: the multi-commodity flow LP.

The evaluator's router (`models.topology_routing.route_within_bandwidth`) is a heuristic:
on a triangle it can call a plan over bandwidth that a split routing carries (measured on
tiny brute-forced cases: 2 of 153). Below `EXACT_VARIABLES` flow variables this LP
decides it exactly, so "within bandwidth" means "some routing fits" and an exact engine
(the MILP's link rows) and the evaluator agree. One commodity per node pair (s < t), a
fraction of its traffic per directed arc, least traffic x latency; solved by scipy's
HiGHS (`scipy.optimize.linprog`), imported on first use.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from models.topology_routing import Routing

__all__ = [
    "EXACT_VARIABLES",
    "arcs",
    "decompose_flow",
    "flow_variables",
    "route_exact",
    "routing_from_flows",
]

#: The evaluator solves the LP up to this many flow variables (pairs x directed arcs;
#: 6 nodes, 8 links and all 15 pairs: 240). Beyond, the heuristic decides.
EXACT_VARIABLES = 1_000
_EPS = 1e-9


def arcs(adj: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed arcs (tail, head) of the links and each arc's undirected link index."""
    iu, ku = np.nonzero(np.triu(adj, 1))
    link = np.arange(len(iu))
    return np.r_[iu, ku], np.r_[ku, iu], np.r_[link, link]


def flow_variables(adj: np.ndarray, traffic: np.ndarray) -> int:
    """Pairs with traffic x directed arcs: the LP's size."""
    return int(np.count_nonzero(np.triu(traffic, 1))) * 2 * int(np.count_nonzero(np.triu(adj, 1)))


def route_exact(
    adj: np.ndarray, latency: np.ndarray, bandwidth: np.ndarray, traffic: np.ndarray
) -> Routing | None:
    """Least traffic x latency routing with every link within bandwidth; None when no
    routing fits (or the LP fails). Loads are re-counted from the decomposed paths."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    n = len(adj)
    pairs = [(int(s), int(t)) for s, t in zip(*np.nonzero(np.triu(traffic, 1)), strict=True)]
    tails, heads, link = arcs(adj)
    if not pairs:
        return Routing("lp", np.zeros((n, n)))
    volume = np.array([traffic[p] for p in pairs], dtype=np.float64)
    n_arcs, n_links = len(tails), len(tails) // 2
    col = np.arange(len(pairs) * n_arcs)
    pair_of, arc_of = np.divmod(col, n_arcs)
    # Conservation rows pair * n + node: +1 leaving the node, -1 entering it.
    eq = coo_matrix(
        (
            np.r_[np.ones(len(col)), -np.ones(len(col))],
            (np.r_[pair_of * n + tails[arc_of], pair_of * n + heads[arc_of]], np.r_[col, col]),
        ),
        shape=(len(pairs) * n, len(col)),
    )
    supply = np.zeros(len(pairs) * n)
    for p, (s, t) in enumerate(pairs):
        supply[p * n + s], supply[p * n + t] = 1.0, -1.0
    # Capacity rows: a link's two directions share its bandwidth.
    ub = coo_matrix((volume[pair_of], (link[arc_of], col)), shape=(n_links, len(col)))
    cap = bandwidth[tails[:n_links], heads[:n_links]].astype(np.float64)
    cost = volume[pair_of] * latency[tails, heads][arc_of]
    found = linprog(cost, A_ub=ub.tocsr(), b_ub=cap, A_eq=eq.tocsr(), b_eq=supply, bounds=(0, None))
    if found.status != 0:
        return None
    flows = np.maximum(found.x, 0.0).reshape(len(pairs), n_arcs)
    return routing_from_flows(pairs, volume, flows, tails, heads, latency)


def routing_from_flows(
    pairs: list[tuple[int, int]],
    volume: np.ndarray,
    flows: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    latency: np.ndarray,
    congestion: float | None = None,
) -> Routing | None:
    """The routing an LP's per-pair arc flows (fractions of each pair's `volume`) carry:
    paths from `decompose_flow`, loads and traffic x latency re-counted from them (what
    the routing says, not the LP's values); None when a pair's flow does not decompose."""
    n = len(latency)
    loads = np.zeros((n, n))
    paths: dict[tuple[int, int], list[tuple[list[int], float]]] = {}
    total = 0.0
    for p, (s, t) in enumerate(pairs):
        pieces = decompose_flow(s, t, flows[p], tails, heads, n)
        if not pieces:
            return None
        paths[(s, t)] = [(path, frac * volume[p]) for path, frac in pieces]
        for path, amount in paths[(s, t)]:
            for a, b in pairwise(path):
                loads[a, b] += amount
                loads[b, a] += amount
                total += amount * float(latency[a, b])
    return Routing("lp", loads, paths, total, congestion)


def decompose_flow(
    s: int, t: int, flow: np.ndarray, tails: np.ndarray, heads: np.ndarray, n: int
) -> list[tuple[list[int], float]]:
    """Split one commodity's arc fractions into simple paths s -> t with their fractions.

    Each step takes a fewest-hop path in what is left of the flow's support, so flow
    going round a cycle (within the LP's tolerance) is dropped, never followed.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    flow = flow.copy()
    arc_index = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(tails, heads, strict=True))}
    pieces: list[tuple[list[int], float]] = []
    carried = 0.0
    # Each step empties at least one arc, so there are at most as many steps as arcs.
    while carried < 1 - 1e-7 and len(pieces) <= len(tails):
        live = flow > _EPS
        support = csr_matrix((np.ones(int(live.sum())), (tails[live], heads[live])), shape=(n, n))
        _, pred = shortest_path(support, indices=s, unweighted=True, return_predecessors=True)
        if pred[t] < 0:
            break
        path = [t]
        while path[-1] != s:
            path.append(int(pred[path[-1]]))
        path.reverse()
        used = [arc_index[(a, b)] for a, b in pairwise(path)]
        amount = min(float(flow[used].min()), 1.0 - carried)
        flow[used] -= amount
        carried += amount
        pieces.append((path, amount))
    if pieces and carried < 1.0:
        # What tolerance left unassigned rides on the biggest piece.
        biggest = max(range(len(pieces)), key=lambda k: pieces[k][1])
        path, amount = pieces[biggest]
        pieces[biggest] = (path, amount + 1.0 - carried)
    return pieces
