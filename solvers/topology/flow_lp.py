"""Exact capacitated routing of one design: a multi-commodity flow LP solved by HiGHS (highspy).

One commodity per node pair (s < t) with a fraction of its traffic on each directed arc
of a built link; a link's two directions share its bandwidth. First: least total
traffic x latency with every link within bandwidth. If that is infeasible, the least
max utilisation (min congestion) instead, which says by how much the design falls short.
Splittable flow makes this an LP, so its answers are exact. `route_design` uses the LP
up to `MAX_LP_VARIABLES` (pairs x directed arcs) and the heuristic router beyond.
"""

from __future__ import annotations

import highspy
import numpy as np
from scipy.sparse import coo_matrix

from models.routing_exact import arcs, routing_from_flows
from models.topology_routing import Routing, route_shortest, route_within_bandwidth
from solvers.shared.quiet_highs import QuietHighs, use_threads

__all__ = ["MAX_LP_VARIABLES", "SEARCH_LP_VARIABLES", "route_design", "route_lp"]

#: Exact LP up to this many flow variables (pairs x directed arcs); 12 nodes with 30
#: links and traffic between all 66 pairs is about 4,000. Beyond: the heuristic.
#: Measured on the loaded 2-core machine (two LPs when nothing fits): 3,500 variables
#: 0.08 s, 15,000 1.05 s, 26,000 5.4 s.
MAX_LP_VARIABLES = 60_000
#: The local search routes every design it scores: there the LP stops here (~0.2 s).
SEARCH_LP_VARIABLES = 8_000
_EPS = 1e-9


def _solve(
    n: int,
    pairs: list[tuple[int, int]],
    arcs: tuple[np.ndarray, np.ndarray, np.ndarray],
    volume: np.ndarray,
    latency_of_arc: np.ndarray,
    bandwidth_of_link: np.ndarray,
    congestion: bool,
    time_limit_s: float,
) -> tuple[np.ndarray, float] | None:
    """Flow fractions f[pair, arc] (and U in congestion mode), or None when infeasible."""
    tails, heads, link = arcs
    n_pairs, n_arcs, n_links = len(pairs), len(tails), len(bandwidth_of_link)
    n_flow = n_pairs * n_arcs
    n_cols = n_flow + (1 if congestion else 0)
    col = np.arange(n_flow)
    pair_of, arc_of = np.divmod(col, n_arcs)
    # Conservation rows pair*n + v: +1 leaving v, -1 entering v.
    rows = np.concatenate([pair_of * n + tails[arc_of], pair_of * n + heads[arc_of]])
    cols = np.concatenate([col, col])
    vals = np.concatenate([np.ones(n_flow), -np.ones(n_flow)])
    # Capacity rows: traffic x fraction summed over pairs and both directions of a link.
    cap_rows = n_pairs * n + link[arc_of]
    rows = np.concatenate([rows, cap_rows])
    cols = np.concatenate([cols, col])
    vals = np.concatenate([vals, volume[pair_of]])
    row_lower = np.zeros(n_pairs * n + n_links)
    for p, (s, t) in enumerate(pairs):
        row_lower[p * n + s], row_lower[p * n + t] = 1.0, -1.0
    row_upper = row_lower.copy()
    row_lower[n_pairs * n :] = -np.inf
    cost = np.concatenate([volume[pair_of] * latency_of_arc[arc_of], [0.0] * congestion])
    if congestion:
        rows = np.concatenate([rows, n_pairs * n + np.arange(n_links)])
        cols = np.concatenate([cols, np.full(n_links, n_flow)])
        vals = np.concatenate([vals, -bandwidth_of_link])
        row_upper[n_pairs * n :] = 0.0
        # Latency only breaks ties between routings of least congestion.
        scale = max(float(cost.sum()), 1.0) * 1e3
        cost = cost / scale
        cost[n_flow] = 1.0
    else:
        row_upper[n_pairs * n :] = bandwidth_of_link
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(row_lower), n_cols)).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, len(row_lower)
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.full(n_cols, np.inf)
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    highs = QuietHighs()
    use_threads(highs, 1)
    highs.setOptionValue("time_limit", max(time_limit_s, 0.05))
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    return np.maximum(x[:n_flow], 0.0).reshape(n_pairs, n_arcs), float(x[-1]) if congestion else 1.0


def route_lp(
    adj: np.ndarray,
    latency: np.ndarray,
    bandwidth: np.ndarray,
    traffic: np.ndarray,
    *,
    time_limit_s: float = 10.0,
) -> Routing | None:
    """Exact least-latency routing within bandwidth, else exact least congestion.

    None when the LP does not finish (time limit) or a pair has no path at all.
    """
    n = len(adj)
    pairs = [(int(s), int(t)) for s, t in zip(*np.nonzero(np.triu(traffic, 1)), strict=True)]
    tails, heads, link = arcs(adj)
    if not pairs:
        return Routing("lp", np.zeros((n, n)))
    volume = np.array([traffic[p] for p in pairs], dtype=np.float64)
    bw = bandwidth[tails[: len(tails) // 2], heads[: len(tails) // 2]].astype(np.float64)
    lat = latency[tails, heads].astype(np.float64)
    args = (n, pairs, (tails, heads, link), volume, lat, bw)
    congestion: float | None = None
    solved = _solve(*args, congestion=False, time_limit_s=time_limit_s)
    if solved is None:
        solved = _solve(*args, congestion=True, time_limit_s=time_limit_s)
        if solved is None:
            return None
        congestion = solved[1]
    # Loads and latency are re-counted from the decomposed paths: what the routing says.
    return routing_from_flows(pairs, volume, solved[0], tails, heads, latency, congestion)


def route_design(
    adj: np.ndarray,
    latency: np.ndarray,
    bandwidth: np.ndarray,
    traffic: np.ndarray,
    *,
    lp_variables: int = MAX_LP_VARIABLES,
    time_limit_s: float = 10.0,
    paths: bool = False,
    scale_steps: int | None = None,
) -> Routing:
    """Shortest paths when they fit (then also least latency); else the LP (up to
    `lp_variables` pairs x arcs) or the heuristic.

    `paths=False` leaves a fitting shortest-path routing without its per-pair paths
    (loads and latency only): the search needs no more, and listing them costs O(n^2 L).
    """
    plain = route_shortest(adj, latency, traffic, paths=False)
    if plain.fits(bandwidth):
        return route_shortest(adj, latency, traffic) if paths else plain
    n_pairs = int(np.count_nonzero(np.triu(traffic, 1)))
    n_arcs = 2 * int(np.count_nonzero(np.triu(adj, 1)))
    if n_pairs * n_arcs <= lp_variables:
        routed = route_lp(adj, latency, bandwidth, traffic, time_limit_s=time_limit_s)
        if routed is not None:
            return routed
    return route_within_bandwidth(adj, latency, bandwidth, traffic, scale_steps=scale_steps)
