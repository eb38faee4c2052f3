"""The design space of a topology job as arrays: traffic, link prices, constraints, objective.

A design is a symmetric bool adjacency matrix over the request's nodes; every method
(candidates, local search, MILP) scores and checks designs through this one object.
Bandwidth is a constraint: a design is feasible only if its traffic can be routed with
every link within bandwidth (`solvers.topology.flow_lp.route_design`), and its latency
objective is that of the routing it would use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from models.topology_graph import topology_to_graph
from models.topology_request import TopologyRequest, node_traffic_matrix
from models.topology_routing import OVER_TOLERANCE, Routing, route_shortest
from solvers.topology.flow_lp import MAX_LP_VARIABLES, SEARCH_LP_VARIABLES, route_design

__all__ = ["DesignSpace", "build_space"]

_TOLERANCE = 1e-9
#: Designs whose routing is kept (a local search revisits designs after kicks).
_ROUTING_CACHE = 4096
#: Up to this many nodes the search routes every design it scores (exact LP or heuristic);
#: beyond, it scores bandwidth by shortest-path loads (a design that fits there fits),
#: and only the final design is routed around full links.
SEARCH_ROUTING_MAX_NODES = 40


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
    # Exact routing LP up to this many variables: small while searching, see `refine`.
    lp_variables: int = SEARCH_LP_VARIABLES
    _routes: dict[bytes, Routing] = field(default_factory=dict, repr=False)
    _penalty: float | None = field(default=None, repr=False)
    _binds: bool | None = field(default=None, repr=False)

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

    def latency_objective(self, adj: np.ndarray, dist: np.ndarray | None = None) -> float:
        """Objective with every pair on its shortest path, bandwidth ignored (inf if
        disconnected). A lower bound on `objective`: routing around full links only adds."""
        dist = self.shortest(adj) if dist is None else dist
        if not np.isfinite(dist).all():
            return float("inf")
        return float(np.triu(self.traffic * dist, 1).sum()) + self.cost_weight * self.link_cost(adj)

    def routing(self, adj: np.ndarray) -> Routing:
        """The design's routing: shortest paths if they fit, else within bandwidth if it can
        (exact LP on small designs, heuristic beyond), else the least congested found."""
        key = np.packbits(adj).tobytes()
        cached = self._routes.get(key)
        if cached is None:
            if len(self._routes) >= _ROUTING_CACHE:
                self._routes.clear()
            searching = self.lp_variables != MAX_LP_VARIABLES
            cached = route_design(
                adj,
                self.latency,
                self.bandwidth,
                self.traffic,
                lp_variables=self.lp_variables,
                # While searching, a rougher least-congestion estimate (3 bisection steps).
                scale_steps=3 if searching else None,
            )
            self._routes[key] = cached
        return cached

    def refine(self) -> None:
        """From now on route with the exact LP up to MAX_LP_VARIABLES (for the final
        answer; the search keeps to SEARCH_LP_VARIABLES)."""
        if self.lp_variables != MAX_LP_VARIABLES:
            self.lp_variables = MAX_LP_VARIABLES
            self._routes.clear()

    def congestion(self, adj: np.ndarray) -> float:
        """Busiest link's routed traffic / bandwidth (the LP's least, when it had to say)."""
        routing = self.routing(adj)
        if routing.min_congestion is not None:
            return routing.min_congestion
        return routing.max_utilisation(self.bandwidth)

    def objective(self, adj: np.ndarray, dist: np.ndarray | None = None) -> float:
        """Sum over pairs of traffic x latency of the routed paths + cost_weight x link
        cost (inf if disconnected). Routed within bandwidth when the design can carry its
        traffic; otherwise on shortest paths (the design is then infeasible anyway)."""
        lower = self.latency_objective(adj, dist)
        if not np.isfinite(lower) or not self.bandwidth_binds:
            return lower
        routing = self.routing(adj)
        if routing.method == "shortest-path" or not routing.fits(self.bandwidth):
            return lower
        return routing.traffic_latency + self.cost_weight * self.link_cost(adj)

    def search_objective(self, adj: np.ndarray, dist: np.ndarray | None = None) -> float:
        """`objective`, plus a penalty above any objective gap per unit of congestion over
        1: local search prefers any design that fits, then the least congested. Above
        SEARCH_ROUTING_MAX_NODES nodes, congestion is that of shortest-path routing."""
        if self.n > SEARCH_ROUTING_MAX_NODES:
            obj = self.latency_objective(adj, dist)
            if not np.isfinite(obj) or not self.bandwidth_binds:
                return obj
            plain = route_shortest(adj, self.latency, self.traffic, paths=False)
            over = plain.max_utilisation(self.bandwidth) - 1.0
            return obj + self.penalty * over if over > OVER_TOLERANCE else obj
        obj = self.objective(adj, dist)
        if not np.isfinite(obj) or not self.bandwidth_binds:
            return obj
        over = self.congestion(adj) - 1.0
        return obj + self.penalty * over if over > OVER_TOLERANCE else obj

    def quick_feasible(self, adj: np.ndarray, dist: np.ndarray | None = None) -> bool:
        """`feasible`, except that above SEARCH_ROUTING_MAX_NODES nodes bandwidth counts as
        met only when shortest paths fit (sufficient, and no rerouting to pay for)."""
        if self.n <= SEARCH_ROUTING_MAX_NODES or not self.bandwidth_binds:
            return self.feasible(adj, dist)
        if not self.structurally_feasible(adj, dist):
            return False
        plain = route_shortest(adj, self.latency, self.traffic, paths=False)
        return plain.fits(self.bandwidth)

    @property
    def penalty(self) -> float:
        if self._penalty is None:
            top = (
                float(np.triu(self.traffic, 1).sum()) * self.n * float(self.latency.max(initial=0))
            )
            self._penalty = 1.0 + 2.0 * (
                top + self.cost_weight * float(np.triu(self.cost, 1).sum())
            )
        return self._penalty

    @property
    def bandwidth_binds(self) -> bool:
        """False when all traffic together fits on the narrowest link: then no design can
        overload a link, and nothing needs routing."""
        if self._binds is None:
            upper = np.triu(np.ones((self.n, self.n), dtype=bool), 1)
            narrowest = float(self.bandwidth[upper].min(initial=np.inf))
            self._binds = float(np.triu(self.traffic, 1).sum()) > narrowest
        return self._binds

    def bandwidth_violation(self, adj: np.ndarray) -> str | None:
        """A sentence when the traffic cannot be routed within bandwidth, else None."""
        if not self.bandwidth_binds:
            return None
        routing = self.routing(adj)
        over = routing.overloaded(self.bandwidth)
        if not over:
            return None
        plain = route_shortest(adj, self.latency, self.traffic, paths=False)
        on_shortest = plain.overloaded(self.bandwidth)
        how = "least any routing reaches" if routing.min_congestion is not None else "best found"
        return (
            f"{len(on_shortest)} link(s) over bandwidth on shortest paths (up to "
            f"{on_shortest[0][2]:.0%}); routed around full links {len(over)} stay over, "
            f"the busiest at {self.congestion(adj):.0%} ({how})"
        )

    def violations(
        self, adj: np.ndarray, dist: np.ndarray | None = None, *, bandwidth: bool = True
    ) -> list[str]:
        """Every broken constraint, each as a sentence; [] when the design is feasible.

        `bandwidth=False` leaves the routing out (the structural constraints only)."""
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
        if bandwidth and (too_much := self.bandwidth_violation(adj)) is not None:
            out.append(too_much)
        return out

    def connectivity(self, adj: np.ndarray) -> int:
        return int(nx.node_connectivity(self.graph_of(adj, attributes=False)))

    def feasible(self, adj: np.ndarray, dist: np.ndarray | None = None) -> bool:
        return not self.violations(adj, dist)

    def structurally_feasible(self, adj: np.ndarray, dist: np.ndarray | None = None) -> bool:
        """Every constraint but bandwidth holds."""
        return not self.violations(adj, dist, bandwidth=False)

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
