"""Candidate designs: the standard generators (in two node orders), Harary graphs, and a
traffic-first spanning construction. Only candidates meeting every constraint are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from models.topology_graph import generate
from solvers.topology.space import SEARCH_ROUTING_MAX_NODES, DesignSpace

__all__ = ["Candidate", "candidate_designs", "standard_designs", "traffic_spanning_tree"]


@dataclass
class Candidate:
    """A named design with its objective (inf when disconnected)."""

    name: str
    adj: np.ndarray
    objective: float
    feasible: bool


def _shapes(space: DesignSpace, seed: int) -> list[tuple[str, nx.Graph]]:
    """Every generator over integer labels 0..n-1 (the caller maps labels to nodes)."""
    labels = [str(i) for i in range(space.n)]
    d = space.max_degree
    fan_outs = sorted({2, 3} | ({d - 1} if d and d > 2 else set()))
    shapes: list[tuple[str, nx.Graph]] = [
        (kind, generate(kind, labels)) for kind in ("full_mesh", "star", "ring", "hypercube")
    ]
    shapes += [(f"tree(fan_out={f})", generate("tree", labels, fan_out=f)) for f in fan_outs]
    if space.n >= 4:
        shapes.append(("torus_2d", generate("torus_2d", labels)))
    if space.n >= 5:
        k = min(4, d or 4, space.n - 1)
        shapes.append((f"small_world(k={k})", generate("small_world", labels, k=k, seed=seed)))
    k_conn = space.min_connectivity
    if 2 <= k_conn < space.n:
        # The fewest links that are k-connected: the safe start under tight budgets.
        harary = nx.relabel_nodes(nx.hkn_harary_graph(k_conn, space.n), str)
        shapes.append((f"harary(k={k_conn})", harary))
    return shapes


def _adjacency(shape: nx.Graph, order: list[int], n: int) -> np.ndarray:
    adj = np.zeros((n, n), dtype=bool)
    for a, b in shape.edges():
        i, k = order[int(a)], order[int(b)]
        adj[i, k] = adj[k, i] = True
    return adj


def _score(space: DesignSpace, name: str, adj: np.ndarray) -> Candidate:
    """Feasible by `DesignSpace.quick_feasible`; the objective of a candidate not known to
    carry its traffic is its shortest-path one (routing every candidate of a large
    request around full links would cost seconds each)."""
    dist = space.shortest(adj)
    feasible = space.quick_feasible(adj, dist)
    if feasible or space.n <= SEARCH_ROUTING_MAX_NODES:
        return Candidate(name, adj, space.objective(adj, dist), feasible)
    return Candidate(name, adj, space.latency_objective(adj, dist), feasible)


def standard_designs(
    space: DesignSpace, seed: int = 0, *, traffic_order: bool = True
) -> list[Candidate]:
    """Generators in the request's node order and (optionally) heaviest-traffic-first order.

    Heaviest first puts the busiest nodes at the hub of a star and the root of a tree.
    """
    natural = list(range(space.n))
    orders = [("", natural)]
    if traffic_order:
        heavy = [int(i) for i in np.argsort(-space.traffic.sum(axis=1), kind="stable")]
        if heavy != natural:
            orders.append((" by traffic", heavy))
    out = []
    for name, shape in _shapes(space, seed):
        for suffix, order in orders:
            out.append(_score(space, name + suffix, _adjacency(shape, order, space.n)))
    return out


def traffic_spanning_tree(space: DesignSpace) -> np.ndarray:
    """Maximum-traffic spanning tree under max_degree (Kruskal over every pair, so it joins up).

    Cost: O(n^2 log n) for sorting the pairs.
    """
    n = space.n
    cap = space.max_degree or n
    iu, ku = np.triu_indices(n, 1)
    # Heavy traffic first; among equals, shorter links first.
    order = np.lexsort((space.latency[iu, ku], -space.traffic[iu, ku]))
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adj = np.zeros((n, n), dtype=bool)
    degree = np.zeros(n, dtype=int)
    joined = 0
    for p in order:
        i, k = int(iu[p]), int(ku[p])
        if degree[i] >= cap or degree[k] >= cap or find(i) == find(k):
            continue
        adj[i, k] = adj[k, i] = True
        degree[i] += 1
        degree[k] += 1
        parent[find(i)] = find(k)
        joined += 1
        if joined == n - 1:
            break
    return adj


def candidate_designs(space: DesignSpace, seed: int = 0) -> list[Candidate]:
    """All candidates, best feasible first (infeasible ones last, for the report)."""
    out = standard_designs(space, seed)
    if space.n >= 2:
        out.append(_score(space, "traffic spanning tree", traffic_spanning_tree(space)))
    if space.current.any():
        out.append(_score(space, "current", space.current.copy()))
    out.sort(key=lambda c: (not c.feasible, c.objective))
    return out
