"""The design space of a topology job as arrays: traffic, link prices, constraints, objective.

A design is a symmetric bool adjacency matrix over the request's nodes; every method
(candidates, local search, MILP) scores and checks designs through this one object.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from models.topology_graph import topology_to_graph
from models.topology_request import TopologyRequest, node_traffic_matrix

__all__ = ["DesignSpace", "build_space"]

_TOLERANCE = 1e-9


@dataclass
class DesignSpace:
    """Arrays over n nodes. latency/cost/bandwidth[i, k] describe link i-k if it is built."""

    nodes: list[str]
    traffic: np.ndarray  # float64[n, n] symmetric, zero diagonal
    latency: np.ndarray  # float64[n, n]
    cost: np.ndarray  # float64[n, n]
    bandwidth: np.ndarray  # float64[n, n]
    current: np.ndarray  # bool[n, n] links of the request's topology
    max_degree: int | None
    link_budget: float | None
    min_connectivity: int
    max_diameter_ms: float | None
    cost_weight: float

    @property
    def n(self) -> int:
        return len(self.nodes)

    def shortest(self, adj: np.ndarray) -> np.ndarray:
        """All-pairs path latency of a design (inf when unreachable). O(n (n + e) log n)."""
        # csgraph reads an explicit 0 as "no edge"; a tiny positive keeps zero-latency links.
        weights = np.where(adj, np.maximum(self.latency, 1e-12), 0.0)
        return np.asarray(dijkstra(csr_matrix(weights), directed=False), dtype=np.float64)

    def link_cost(self, adj: np.ndarray) -> float:
        return float(np.triu(np.where(adj, self.cost, 0.0), 1).sum())

    def objective(self, adj: np.ndarray, dist: np.ndarray | None = None) -> float:
        """Sum over pairs of traffic x latency + cost_weight x link cost (inf if disconnected)."""
        dist = self.shortest(adj) if dist is None else dist
        if not np.isfinite(dist).all():
            return float("inf")
        return float(np.triu(self.traffic * dist, 1).sum()) + self.cost_weight * self.link_cost(adj)

    def violations(self, adj: np.ndarray, dist: np.ndarray | None = None) -> list[str]:
        """Every broken constraint, each as a sentence; [] when the design is feasible."""
        out: list[str] = []
        degree = adj.sum(axis=1)
        if self.max_degree is not None and degree.max(initial=0) > self.max_degree:
            worst = int(np.argmax(degree))
            out.append(
                f"node {self.nodes[worst]} has {int(degree[worst])} links; "
                f"max_degree is {self.max_degree}"
            )
        cost = self.link_cost(adj)
        if self.link_budget is not None and cost > self.link_budget * (1 + _TOLERANCE) + _TOLERANCE:
            out.append(f"links cost {cost:g}; link_budget is {self.link_budget:g}")
        dist = self.shortest(adj) if dist is None else dist
        if not np.isfinite(dist).all():
            out.append("the topology is disconnected")
            return out
        if self.max_diameter_ms is not None and dist.max() > self.max_diameter_ms + _TOLERANCE:
            out.append(
                f"diameter is {dist.max():g} ms; max_diameter_ms is {self.max_diameter_ms:g}"
            )
        k = self.min_connectivity
        if k >= 2 and (self.n <= k or degree.min() < k or self.connectivity(adj) < k):
            out.append(f"node connectivity is below min_connectivity {k}")
        return out

    def connectivity(self, adj: np.ndarray) -> int:
        return int(nx.node_connectivity(self.graph_of(adj, attributes=False)))

    def feasible(self, adj: np.ndarray, dist: np.ndarray | None = None) -> bool:
        return not self.violations(adj, dist)

    def graph_of(self, adj: np.ndarray, *, attributes: bool = True) -> nx.Graph:
        """The design as a graph with string nodes and link attributes."""
        graph = nx.Graph()
        graph.add_nodes_from(self.nodes)
        for i, k in zip(*np.nonzero(np.triu(adj, 1)), strict=True):
            attrs = (
                {
                    "latency_ms": float(self.latency[i, k]),
                    "bandwidth": float(self.bandwidth[i, k]),
                    "cost": float(self.cost[i, k]),
                }
                if attributes
                else {}
            )
            graph.add_edge(self.nodes[i], self.nodes[k], **attrs)
        return graph

    def adjacency_of(self, graph: nx.Graph) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.nodes)}
        adj = np.zeros((self.n, self.n), dtype=bool)
        for a, b in graph.edges():
            adj[index[str(a)], index[str(b)]] = adj[index[str(b)], index[str(a)]] = True
        return adj


def build_space(request: TopologyRequest) -> DesignSpace:
    """Price every possible link: existing links keep their attributes, new ones use new_links."""
    graph = topology_to_graph(request.topology, source=request.name)
    nodes = [n.id for n in request.topology.nodes]
    n = len(nodes)
    pricing = request.new_links.pricing()
    latency = np.zeros((n, n))
    cost = np.zeros((n, n))
    bandwidth = np.zeros((n, n))
    current = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for k in range(i + 1, n):
            a, b = nodes[i], nodes[k]
            attrs = graph.edges[a, b] if graph.has_edge(a, b) else pricing.attrs(graph, a, b)
            current[i, k] = current[k, i] = graph.has_edge(a, b)
            latency[i, k] = latency[k, i] = attrs["latency_ms"]
            cost[i, k] = cost[k, i] = attrs["cost"]
            bandwidth[i, k] = bandwidth[k, i] = attrs["bandwidth"]
    c = request.constraints
    return DesignSpace(
        nodes=nodes,
        traffic=node_traffic_matrix(request),
        latency=latency,
        cost=cost,
        bandwidth=bandwidth,
        current=current,
        max_degree=c.max_degree,
        link_budget=c.link_budget,
        min_connectivity=c.min_connectivity,
        max_diameter_ms=c.max_diameter_ms,
        cost_weight=request.cost_weight,
    )
