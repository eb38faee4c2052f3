"""Topology metrics: path latency, traffic-weighted latency, robustness, bottlenecks, cost.

Traffic is routed on one shortest-latency path per node pair; that routing gives the link
loads (compared with bandwidth) and the traffic betweenness of nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

# networkx and scipy.sparse (~0.6 s to import) are imported by the functions that use
# them: the report schema below is on every CLI solve's path, whose start counts
# against its time limit.
if TYPE_CHECKING:
    import networkx as nx
    from scipy.sparse import csr_matrix

__all__ = [
    "LinkLoad",
    "NodeLoad",
    "TopologyMetrics",
    "all_pairs_latency",
    "route_traffic",
    "topology_metrics",
    "total_link_cost",
    "traffic_weighted_latency",
]


class NodeLoad(BaseModel):
    """Traffic a node relays for others (traffic betweenness)."""

    node: str
    traffic_through: float
    share: float = Field(description="Fraction of all traffic that passes through this node.")


class LinkLoad(BaseModel):
    """Traffic routed over one link against its bandwidth."""

    a: str
    b: str
    traffic: float
    bandwidth: float
    utilisation: float


class TopologyMetrics(BaseModel):
    """Everything `allocator topology metrics` and `bottleneck-analyze` report."""

    n_nodes: int
    n_links: int
    connected: bool
    max_degree: int
    total_link_cost: float
    diameter_ms: float | None = Field(description="None when disconnected.")
    diameter_hops: int | None
    mean_path_latency_ms: float | None = Field(description="Mean over all node pairs.")
    node_connectivity: int
    edge_connectivity: int
    algebraic_connectivity: float
    total_traffic: float
    traffic_latency: float = Field(description="Sum over pairs of traffic x path latency.")
    traffic_weighted_latency_ms: float | None = Field(description="traffic_latency / traffic.")
    unreachable_traffic: float = Field(description="Traffic between nodes with no path.")
    bottleneck_nodes: list[NodeLoad]
    bottleneck_links: list[LinkLoad]
    overloaded_links: list[LinkLoad] = Field(description="Links whose traffic exceeds bandwidth.")


def _weights(graph: nx.Graph, nodes: Sequence[str], attr: str | None) -> csr_matrix:
    from scipy.sparse import csr_matrix  # lazily: see the imports above

    index = {name: i for i, name in enumerate(nodes)}
    rows, cols, vals = [], [], []
    for a, b, data in graph.edges(data=True):
        # csgraph treats an explicit 0 as "no edge"; a tiny positive keeps zero-latency links.
        w = max(float(data.get(attr, 1.0)) if attr else 1.0, 1e-12)
        rows += [index[a], index[b]]
        cols += [index[b], index[a]]
        vals += [w, w]
    n = len(nodes)
    return csr_matrix((vals, (rows, cols)), shape=(n, n))


def all_pairs_latency(graph: nx.Graph, nodes: Sequence[str] | None = None) -> np.ndarray:
    """float64[n, n] shortest-path latency (ms), inf when unreachable. O(n (n + e) log n)."""
    from scipy.sparse.csgraph import dijkstra  # lazily: see the imports above

    order = list(nodes) if nodes is not None else list(graph.nodes)
    dist = dijkstra(_weights(graph, order, "latency_ms"), directed=False)
    return np.asarray(dist, dtype=np.float64)


def traffic_weighted_latency(latency: np.ndarray, traffic: np.ndarray) -> float | None:
    """Mean path latency weighted by traffic (pairs counted once); None without traffic."""
    upper = np.triu(traffic, 1)
    total = float(upper.sum())
    if total <= 0:
        return None
    return float((upper * latency).sum() / total)


def total_link_cost(graph: nx.Graph) -> float:
    return float(sum(float(d.get("cost", 1.0)) for _, _, d in graph.edges(data=True)))


def route_traffic(
    graph: nx.Graph, nodes: Sequence[str], traffic: np.ndarray
) -> tuple[dict[tuple[str, str], float], np.ndarray]:
    """Route each pair's traffic on one shortest path: (load per link, relayed traffic per node).

    Per source, loads accumulate up the shortest-path tree from the farthest node in,
    so the whole routing costs O(n (n + e) log n).
    """
    from scipy.sparse.csgraph import dijkstra  # lazily: see the imports above

    order = list(nodes)
    n = len(order)
    dist, pred = dijkstra(
        _weights(graph, order, "latency_ms"), directed=False, return_predecessors=True
    )
    link_load: dict[tuple[str, str], float] = {}
    relayed = np.zeros(n, dtype=np.float64)
    upper = np.triu(traffic, 1)
    for s in range(n):
        acc = upper[s].copy()
        if not acc.any():
            continue
        reach = np.flatnonzero(np.isfinite(dist[s]))
        for v in reach[np.argsort(-dist[s, reach], kind="stable")]:
            p = pred[s, v]
            if p < 0 or acc[v] == 0:
                continue
            key = (order[p], order[v]) if order[p] <= order[v] else (order[v], order[p])
            link_load[key] = link_load.get(key, 0.0) + acc[v]
            if p != s:
                relayed[p] += acc[v]
            acc[p] += acc[v]
    return link_load, relayed


def topology_metrics(
    graph: nx.Graph, traffic: np.ndarray | None = None, *, top: int = 5
) -> TopologyMetrics:
    """All metrics; `traffic` is a symmetric matrix in graph.nodes order (or None)."""
    import networkx as nx  # lazily: see the imports above
    from scipy.sparse.csgraph import dijkstra

    nodes = [str(n) for n in graph.nodes]
    n = len(nodes)
    traffic = np.zeros((n, n)) if traffic is None else np.asarray(traffic, dtype=np.float64)
    latency = all_pairs_latency(graph, nodes)
    connected = n > 0 and bool(np.isfinite(latency).all())
    off = ~np.eye(n, dtype=bool)
    hops = dijkstra(_weights(graph, nodes, None), directed=False) if connected else None
    upper = np.triu(traffic, 1)
    reachable = np.isfinite(latency)
    total = float(upper.sum())
    routed = float(upper[reachable].sum())
    traffic_latency = float((upper[reachable] * latency[reachable]).sum())
    link_load, relayed = route_traffic(graph, nodes, traffic)
    links = [
        LinkLoad(
            a=a,
            b=b,
            traffic=load,
            bandwidth=float(graph.edges[a, b].get("bandwidth", 1000.0)),
            utilisation=load / float(graph.edges[a, b].get("bandwidth", 1000.0)),
        )
        for (a, b), load in link_load.items()
    ]
    links.sort(key=lambda ll: (-ll.utilisation, ll.a, ll.b))
    busiest = np.argsort(-relayed, kind="stable")[:top]
    return TopologyMetrics(
        n_nodes=n,
        n_links=graph.number_of_edges(),
        connected=connected,
        max_degree=max((d for _, d in graph.degree()), default=0),
        total_link_cost=total_link_cost(graph),
        diameter_ms=float(latency[off].max())
        if connected and n > 1
        else (0.0 if connected else None),
        diameter_hops=int(hops[off].max()) if hops is not None and n > 1 else None,
        mean_path_latency_ms=float(latency[off].mean()) if connected and n > 1 else None,
        node_connectivity=int(nx.node_connectivity(graph)) if n > 1 else 0,
        edge_connectivity=int(nx.edge_connectivity(graph)) if n > 1 else 0,
        algebraic_connectivity=_algebraic_connectivity(graph) if connected and n > 1 else 0.0,
        total_traffic=total,
        traffic_latency=traffic_latency,
        traffic_weighted_latency_ms=traffic_latency / routed if routed > 0 else None,
        unreachable_traffic=total - routed,
        bottleneck_nodes=[
            NodeLoad(
                node=nodes[i],
                traffic_through=float(relayed[i]),
                share=float(relayed[i] / total) if total > 0 else 0.0,
            )
            for i in busiest
            if relayed[i] > 0
        ],
        bottleneck_links=links[:top],
        overloaded_links=[ll for ll in links if ll.traffic > ll.bandwidth],
    )


def _algebraic_connectivity(graph: nx.Graph) -> float:
    """Fiedler value of the unweighted Laplacian (structure, not latency)."""
    import networkx as nx  # lazily: see the imports above

    if graph.number_of_nodes() <= 400:
        lap = nx.laplacian_matrix(graph, weight=None).toarray().astype(np.float64)
        return float(np.sort(np.linalg.eigvalsh(lap))[1])
    return float(nx.algebraic_connectivity(graph, weight=None, seed=0))
