"""Traffic routed within link bandwidth: the routing type, its summary, and the heuristic router.

A routing splits each node pair's traffic over paths; a link's load is the sum of what
crosses it (both directions share the bandwidth). `route_within_bandwidth` is the
heuristic (successive shortest paths over links with room left, biggest pairs first,
in two orders, the one with less overflow kept); the exact LP lives in
`solvers.topology.flow_lp` and fills the same `Routing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = [
    "OVER_TOLERANCE",
    "SCALE_STEPS",
    "Routing",
    "RoutingSummary",
    "main_paths",
    "route_shortest",
    "route_within_bandwidth",
]

_EPS = 1e-9
#: A link counts as over bandwidth above 1 + this share of it: the LP's answers hold to
#: HiGHS's feasibility tolerance (1e-7 absolute), not to the last bit.
OVER_TOLERANCE = 1e-6
RoutingMethod = Literal["shortest-path", "lp", "heuristic"]


@dataclass
class Routing:
    """Node-index paths per pair (s < t) with the traffic each carries, and link loads.

    `min_congestion` is set only by the exact LP when the traffic does not fit: the
    least max utilisation any routing of this design reaches (so the design falls short
    by min_congestion - 1 of its busiest link's bandwidth).
    """

    method: RoutingMethod
    loads: np.ndarray  # float64[n, n] symmetric: traffic over link i-k, both directions
    paths: dict[tuple[int, int], list[tuple[list[int], float]]] = field(default_factory=dict)
    traffic_latency: float = 0.0  # sum over routed paths of traffic x path latency (ms)
    min_congestion: float | None = None

    def utilisation(self, bandwidth: np.ndarray) -> np.ndarray:
        return np.where(self.loads > 0, self.loads / np.maximum(bandwidth, _EPS), 0.0)

    def max_utilisation(self, bandwidth: np.ndarray) -> float:
        return float(self.utilisation(bandwidth).max(initial=0.0))

    def overloaded(self, bandwidth: np.ndarray) -> list[tuple[int, int, float]]:
        """(i, k, utilisation) of every link over its bandwidth, worst first (i < k)."""
        util = np.triu(self.utilisation(bandwidth), 1)
        iu, ku = np.nonzero(util > 1 + OVER_TOLERANCE)
        out = [(int(i), int(k), float(util[i, k])) for i, k in zip(iu, ku, strict=True)]
        return sorted(out, key=lambda x: -x[2])

    def fits(self, bandwidth: np.ndarray) -> bool:
        return not self.overloaded(bandwidth)


class RoutingSummary(BaseModel):
    """How a design carries its traffic when routing respects link bandwidth."""

    method: RoutingMethod = Field(description="lp (exact), heuristic or shortest-path.")
    fits: bool = Field(description="Every link's routed traffic is within its bandwidth.")
    max_utilisation: float = Field(description="Busiest link's routed traffic / bandwidth.")
    overloaded_links: int = Field(description="Links whose routed traffic exceeds bandwidth.")
    traffic_latency: float = Field(description="Sum over routed paths of traffic x latency (ms).")
    min_congestion: float | None = Field(
        default=None,
        description="Exact LP only, when it does not fit: the least max utilisation any "
        "routing of this design reaches.",
    )
    carried_fraction: float = Field(
        description="Share of every pair's traffic the design can carry at once: "
        "1 / min_congestion (or 1 / max_utilisation for the heuristic), at most 1."
    )


def _tree_path(pred: np.ndarray, s: int, t: int) -> list[int]:
    path = [t]
    while path[-1] != s:
        path.append(int(pred[path[-1]]))
    return path[::-1]


def _path_latency(path: list[int], latency: np.ndarray) -> float:
    return float(sum(latency[a, b] for a, b in pairwise(path)))


def _dijkstra(graph: csr_matrix, **kwargs: Any) -> Any:
    """scipy's csgraph Dijkstra, imported on first use (see `_weights`)."""
    from scipy.sparse.csgraph import dijkstra

    return dijkstra(graph, **kwargs)


def _weights(adj: np.ndarray, latency: np.ndarray) -> csr_matrix:
    # scipy.sparse is imported on first use: ~0.4 s, and most requests never route
    # (the CLI's start counts against its time limit).
    from scipy.sparse import csr_matrix

    # csgraph reads an explicit 0 as "no edge"; a tiny positive keeps zero-latency links.
    return csr_matrix(np.where(adj, np.maximum(latency, 1e-12), 0.0))


def route_shortest(
    adj: np.ndarray, latency: np.ndarray, traffic: np.ndarray, *, paths: bool = True
) -> Routing:
    """Every pair on one lowest-latency path, bandwidth ignored. O(n (n + e) log n + n^2).

    Loads accumulate up each source's shortest-path tree from the farthest node in;
    `paths=False` skips listing each pair's path (loads and latency only).
    """
    n = len(adj)
    dist, pred = _dijkstra(_weights(adj, latency), directed=False, return_predecessors=True)
    loads = np.zeros((n, n))
    found: dict[tuple[int, int], list[tuple[list[int], float]]] = {}
    upper = np.triu(traffic, 1)
    reachable = np.isfinite(dist)
    total = float((upper[reachable] * dist[reachable]).sum())
    for s in np.flatnonzero(upper.any(axis=1)).tolist():
        acc = upper[s].copy()
        reach = np.flatnonzero(reachable[s])
        for v in reach[np.argsort(-dist[s, reach], kind="stable")].tolist():
            p = int(pred[s, v])
            if p < 0 or acc[v] == 0:
                continue
            loads[p, v] += acc[v]
            loads[v, p] += acc[v]
            acc[p] += acc[v]
        if paths:
            for t in np.flatnonzero(upper[s] * reachable[s]).tolist():
                found[(s, t)] = [(_tree_path(pred[s], s, t), float(upper[s, t]))]
    return Routing("shortest-path", loads, found, total)


def _greedy(
    adj: np.ndarray,
    latency: np.ndarray,
    bandwidth: np.ndarray,
    traffic: np.ndarray,
    order: list[tuple[int, int]],
) -> tuple[Routing, float]:
    """Route pairs in `order` on shortest paths over links with room left; returns the
    routing and the traffic that found no room (put on the plain shortest path).

    One shortest-path tree per source, recomputed only when a link on it fills up.
    """
    n = len(adj)
    loads = np.zeros((n, n))
    paths: dict[tuple[int, int], list[tuple[list[int], float]]] = {}
    total = overflow = 0.0
    plain = _dijkstra(_weights(adj, latency), directed=False, return_predecessors=True)[1]
    by_source: dict[int, list[int]] = {}
    for s, t in order:
        by_source.setdefault(s, []).append(t)
    for s, targets in by_source.items():
        pred = _room_tree(adj, latency, bandwidth, loads, s)
        for t in targets:
            left = float(traffic[s, t])
            pieces: list[tuple[list[int], float]] = []
            while left > _EPS:
                filled = False
                if pred[t] < 0:
                    if plain[s, t] < 0:
                        break
                    # No path with room: the rest goes on the plain shortest path.
                    path, amount = _tree_path(plain[s], s, t), left
                    overflow += left
                else:
                    path = _tree_path(pred, s, t)
                    room = min(float(bandwidth[a, b] - loads[a, b]) for a, b in pairwise(path))
                    amount = min(left, room)
                    filled = room - amount <= _EPS
                for a, b in pairwise(path):
                    loads[a, b] += amount
                    loads[b, a] += amount
                pieces.append((path, amount))
                total += amount * _path_latency(path, latency)
                left -= amount
                if filled:  # a link of the tree is full: the tree changes
                    pred = _room_tree(adj, latency, bandwidth, loads, s)
            paths[(s, t)] = pieces
    return Routing("heuristic", loads, paths, total), overflow


def _room_tree(
    adj: np.ndarray, latency: np.ndarray, bandwidth: np.ndarray, loads: np.ndarray, s: int
) -> np.ndarray:
    """Predecessors of the shortest-path tree from s over links with room left."""
    usable = adj & (bandwidth - loads > _EPS)
    return np.asarray(
        _dijkstra(_weights(usable, latency), indices=s, directed=False, return_predecessors=True)[1]
    )


def route_within_bandwidth(
    adj: np.ndarray,
    latency: np.ndarray,
    bandwidth: np.ndarray,
    traffic: np.ndarray,
    *,
    scale_steps: int | None = None,
) -> Routing:
    """Heuristic capacity-aware routing: shortest paths first, the greedy only if they overload.

    Two greedy orders (heaviest pair first; farthest pair first, as long pairs have the
    fewest alternatives); keeps the one with less overflow, then lower latency. When
    neither fits, the least congestion is searched for: the smallest scale of every
    bandwidth (bisection, `scale_steps` steps, default SCALE_STEPS) at which the greedy
    fits, whose routing then runs no link above that share of its bandwidth.
    Cost: O(pairs x pieces x (n + e) log n), times 2 + 2 x scale_steps when nothing fits.
    """
    plain = route_shortest(adj, latency, traffic)
    if plain.fits(bandwidth):
        return plain
    pairs = [(int(s), int(t)) for s, t in zip(*np.nonzero(np.triu(traffic, 1)), strict=True)]
    dist = np.asarray(_dijkstra(_weights(adj, latency), directed=False))
    # Pairs go source by source; sources (and pairs within one) in these two orders.
    weight = np.triu(traffic, 1).sum(axis=1)
    heavy = sorted(pairs, key=lambda p: (-weight[p[0]], p[0], -traffic[p], p))
    far = sorted(pairs, key=lambda p: (-dist[p[0]].max(), p[0], -dist[p], p))

    def attempt(scale: float) -> tuple[Routing, float]:
        tried = [_greedy(adj, latency, bandwidth * scale, traffic, o) for o in (heavy, far)]
        return min(tried, key=lambda r: (round(r[1], 9), r[0].traffic_latency))

    best, overflow = attempt(1.0)
    if overflow > _EPS:
        # Shortest paths fit at their own congestion, so the answer lies in [1, that].
        low, high = 1.0, plain.max_utilisation(bandwidth)
        # The greedy's overflow rides on shortest paths; keep whichever of the two is
        # less congested (without bisection steps that is the answer).
        best = min((plain, best), key=lambda r: r.max_utilisation(bandwidth))
        for _ in range(SCALE_STEPS if scale_steps is None else scale_steps):
            mid = (low + high) / 2
            routed, spill = attempt(mid)
            if spill > _EPS:
                low = mid
            else:
                high = mid
                if routed.max_utilisation(bandwidth) < best.max_utilisation(bandwidth):
                    best = routed
    best.method = "heuristic"
    return best


#: Bisection steps of the least-congestion search (the scale to within 2**-8 of its range).
SCALE_STEPS = 8


def main_paths(routing: Routing, nodes: list[str]) -> dict[tuple[str, str], list[str]]:
    """Each pair's path carrying the most of its traffic, both directions, as node names."""
    out: dict[tuple[str, str], list[str]] = {}
    for (s, t), pieces in routing.paths.items():
        if not pieces:
            continue
        path, _ = max(pieces, key=lambda p: p[1])
        names = [nodes[v] for v in path]
        out[(nodes[s], nodes[t])] = names
        out[(nodes[t], nodes[s])] = names[::-1]
    return out
