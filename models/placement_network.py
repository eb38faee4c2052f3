"""A placement's communication on the topology's links: node traffic, routing, link use.

When a problem has a topology and communicating tasks, a plan puts traffic between the
nodes its agents sit on; that traffic shares the links (both directions of a link share
its bandwidth, the convention of `models.topology_routing`). Routing is shortest paths
when they fit, else the heuristic router around full links (`route_within_bandwidth`),
else on small networks the exact LP (`models.routing_exact`), so a plan reported within
bandwidth has a routing that proves it, and on small networks every plan some routing
fits is reported within bandwidth. Volumes are rates in
the links' bandwidth units, as in a topology job's traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from models.routing_exact import EXACT_VARIABLES, flow_variables, route_exact
from models.schema import Problem
from models.topology_routing import Routing, route_within_bandwidth

if TYPE_CHECKING:
    from scipy.sparse import csc_matrix

__all__ = [
    "LinkUse",
    "PlacementNetwork",
    "build_network",
    "link_use",
    "node_traffic",
    "routed_transfers",
]


@dataclass(frozen=True)
class PlacementNetwork:
    """The topology as arrays over v nodes, and which node each of m agents sits on."""

    nodes: list[str]
    adjacency: np.ndarray  # bool[v, v] built links
    latency: np.ndarray  # float64[v, v] link latency (ms)
    bandwidth: np.ndarray  # float64[v, v] link bandwidth (0 where no link)
    agent_node: np.ndarray  # int64[m] node index, -1 for an agent off the topology
    # Lowest-latency paths, computed once: path latency (inf when unreachable), and which
    # links (in `link_ends` order) the path of pair s < t crosses: column s * v + t.
    distance: np.ndarray  # float64[v, v]
    link_ends: tuple[np.ndarray, np.ndarray]  # (i, k) of each link, i < k
    path_links: csc_matrix  # [links, v * v] 1 where the pair's path crosses the link
    # False when all communication together fits on the narrowest link: then no plan
    # can overload one (loads are still reported).
    may_overload: bool = True

    def path(self, u: int, w: int) -> np.ndarray:
        """Link indices on the lowest-latency path between nodes u and w."""
        col = min(u, w) * len(self.nodes) + max(u, w)
        start, end = self.path_links.indptr[col], self.path_links.indptr[col + 1]
        return np.asarray(self.path_links.indices[start:end])

    def shortest_loads(self, traffic: np.ndarray) -> np.ndarray:
        """float64[links]: each link's load with every pair on its lowest-latency path."""
        return np.asarray(self.path_links @ np.triu(traffic, 1).ravel())


def _paths(adjacency: np.ndarray, latency: np.ndarray) -> tuple[np.ndarray, tuple, csc_matrix]:
    """Lowest-latency paths between every pair, as `PlacementNetwork` keeps them.
    O(v (v + e) log v) plus v x (most hops) numpy steps, once per compiled problem."""
    # Imported here: scipy.sparse costs ~0.4 s and only requests with a topology need it
    # (the CLI's start counts against its time limit).
    from scipy.sparse import csc_matrix, csr_matrix
    from scipy.sparse.csgraph import dijkstra

    v = len(adjacency)
    # The same weights as `route_shortest`, so both pick the same paths.
    weights = csr_matrix(np.where(adjacency, np.maximum(latency, 1e-12), 0.0))
    distance, pred = dijkstra(weights, directed=False, return_predecessors=True)
    iu, ku = np.nonzero(np.triu(adjacency, 1))
    link_of = np.full((v, v), -1, dtype=np.int64)
    link_of[iu, ku] = link_of[ku, iu] = np.arange(len(iu))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for s in range(v):
        # Walk every target's path back to s at once, one hop per step.
        targets = s + 1 + np.flatnonzero(np.isfinite(distance[s, s + 1 :]))
        hop = targets.copy()
        while len(hop):
            back = pred[s, hop]
            rows.append(link_of[back, hop])
            cols.append(s * v + targets)
            keep = back != s
            hop, targets = back[keep], targets[keep]
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    path_links = csc_matrix((np.ones(len(row)), (row, col)), shape=(len(iu), v * v))
    return np.asarray(distance), (iu, ku), path_links


def build_network(problem: Problem) -> PlacementNetwork | None:
    """Arrays of the problem's topology; None without a topology or without communication
    between tasks (then no link carries anything, and evaluation pays nothing)."""
    if problem.topology is None or not problem.communication:
        return None
    nodes = [n.id for n in problem.topology.nodes]
    index = {name: k for k, name in enumerate(nodes)}
    v = len(nodes)
    adjacency = np.zeros((v, v), dtype=bool)
    latency = np.zeros((v, v))
    bandwidth = np.zeros((v, v))
    for link in problem.topology.links:
        i, k = index[link.a], index[link.b]
        # Of repeated links keep the faster one, as workflow transfers do
        # (`models.workflow`); a link from a node to itself carries nothing.
        if i == k or (adjacency[i, k] and latency[i, k] <= link.latency_ms):
            continue
        adjacency[i, k] = adjacency[k, i] = True
        latency[i, k] = latency[k, i] = link.latency_ms
        bandwidth[i, k] = bandwidth[k, i] = link.bandwidth
    agent_node = np.array(
        [index[a.node] if a.node is not None else -1 for a in problem.agents], dtype=np.int64
    )
    distance, ends, path_links = _paths(adjacency, latency)
    total = sum(c.volume for c in problem.communication)
    narrowest = float(bandwidth[ends].min()) if len(ends[0]) else np.inf
    return PlacementNetwork(
        nodes,
        adjacency,
        latency,
        bandwidth,
        agent_node,
        distance,
        ends,
        path_links,
        may_overload=total > narrowest,
    )


def node_traffic(
    network: PlacementNetwork, pairs: np.ndarray, volume: np.ndarray, assignment: np.ndarray
) -> np.ndarray:
    """float64[v, v] symmetric traffic between nodes (entry = both directions' total).

    Tasks on one node, unassigned or on an agent off the topology put nothing on a link.
    O(k) for k communicating pairs.
    """
    v = len(network.nodes)
    traffic = np.zeros((v, v))
    if not len(pairs):
        return traffic
    left, right = assignment[pairs[:, 0]], assignment[pairs[:, 1]]
    placed = (left >= 0) & (right >= 0)
    node_l = np.where(placed, network.agent_node[np.maximum(left, 0)], -1)
    node_r = np.where(placed, network.agent_node[np.maximum(right, 0)], -1)
    keep = (node_l >= 0) & (node_r >= 0) & (node_l != node_r)
    np.add.at(traffic, (node_l[keep], node_r[keep]), volume[keep])
    return traffic + traffic.T


@dataclass(frozen=True)
class LinkUse:
    """How a plan's traffic loads the links once routed (shortest paths if they fit)."""

    routing: Routing
    network: PlacementNetwork
    traffic: np.ndarray  # float64[v, v] what was routed (from `node_traffic`)
    shortest_overloaded: int  # links over bandwidth with every pair on its shortest path

    @property
    def max_utilisation(self) -> float:
        """Busiest link's routed traffic / bandwidth in the routing found (when nothing
        fits, the greedy's overflow rides on shortest paths: see `least_congestion`)."""
        return self.routing.max_utilisation(self.network.bandwidth)

    @property
    def fits(self) -> bool:
        return self.routing.fits(self.network.bandwidth)

    def overloaded(self) -> list[tuple[str, str, float]]:
        """(node, node, utilisation) of every link over bandwidth, worst first."""
        names = self.network.nodes
        return [
            (names[i], names[k], u) for i, k, u in self.routing.overloaded(self.network.bandwidth)
        ]

    def links(self) -> list[tuple[str, str, float, float]]:
        """(node, node, traffic, bandwidth) of every link that carries traffic, busiest
        (by utilisation) first."""
        loads, bw = self.routing.loads, self.network.bandwidth
        iu, ku = np.nonzero(np.triu(loads, 1) > 0)
        rows = [
            (self.network.nodes[i], self.network.nodes[k], float(loads[i, k]), float(bw[i, k]))
            for i, k in zip(iu.tolist(), ku.tolist(), strict=True)
        ]
        return sorted(rows, key=lambda r: -r[2] / max(r[3], 1e-12))

    def shortfall_sentence(self) -> str:
        """Which links the plan overloads, in one sentence a person can act on."""
        worst = self.overloaded()
        a, b, util = worst[0]
        return (
            f"the plan's communication overloads {len(worst)} link(s) even when routed "
            f"around full links (worst {a}-{b} at {util:.0%} of its bandwidth; "
            f"{self.shortest_overloaded} over on shortest paths): put communicating tasks "
            "on the same or nearby nodes"
        )

    def least_congestion(self) -> float:
        """Heuristic least max utilisation of any routing of this traffic (an upper bound
        on the true one; `solvers.topology.flow_lp.route_lp` gives it exactly)."""
        if self.fits:
            return self.max_utilisation
        net = self.network
        routed = route_within_bandwidth(net.adjacency, net.latency, net.bandwidth, self.traffic)
        return routed.max_utilisation(net.bandwidth)


def link_use(network: PlacementNetwork, traffic: np.ndarray) -> LinkUse | None:
    """Route `traffic` (from `node_traffic`); None when no traffic crosses a link.

    Shortest paths when they fit: O(v (v + e) log v). Otherwise the heuristic router
    around full links, once per order (no least-congestion search: `least_congestion`
    does that on demand, as it costs 2 x SCALE_STEPS more routings); when it finds no
    fit on a small network (`EXACT_VARIABLES`), the exact LP decides.
    """
    if not traffic.any():
        return None
    adj, lat, bw = network.adjacency, network.latency, network.bandwidth
    plain = _on_shortest_paths(network, traffic)
    if plain.fits(bw):
        return LinkUse(plain, network, traffic, 0)
    over = len(plain.overloaded(bw))
    routed = route_within_bandwidth(adj, lat, bw, traffic, scale_steps=0)
    if not routed.fits(bw) and flow_variables(adj, traffic) <= EXACT_VARIABLES:
        # The heuristic can miss a split routing; small networks get the exact answer.
        exact = route_exact(adj, lat, bw, traffic)
        if exact is not None and exact.fits(bw):
            return LinkUse(exact, network, traffic, over)
    return LinkUse(routed, network, traffic, over)


def _on_shortest_paths(network: PlacementNetwork, traffic: np.ndarray) -> Routing:
    """Loads and traffic x latency with every pair on its lowest-latency path (the
    network's paths, so no shortest-path search): what `route_shortest` gives, faster."""
    v = len(network.nodes)
    iu, ku = network.link_ends
    per_link = network.shortest_loads(traffic)
    loads = np.zeros((v, v))
    loads[iu, ku] = loads[ku, iu] = per_link
    upper = np.triu(traffic, 1)
    carried = (upper > 0) & np.isfinite(network.distance)
    return Routing(
        "shortest-path", loads, {}, float((upper * np.where(carried, network.distance, 0.0)).sum())
    )


def routed_transfers(
    use: LinkUse, per_data: np.ndarray, fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Workflow transfer matrices with each node pair's transfers on the path carrying most
    of its routed traffic (latency summed, narrowest link's bandwidth); None when the
    routing is plain shortest paths (the compiled matrices already use those)."""
    if use.routing.method == "shortest-path":
        return None
    net = use.network
    per_data, fixed = per_data.copy(), fixed.copy()
    by_pair: dict[tuple[int, int], tuple[float, float]] = {}
    for (s, t), pieces in use.routing.paths.items():
        if not pieces:
            continue
        path, _ = max(pieces, key=lambda p: p[1])
        hops = list(pairwise(path))
        narrowest = min(float(net.bandwidth[u, w]) for u, w in hops)
        seconds = sum(float(net.latency[u, w]) for u, w in hops) / 1000.0
        by_pair[(s, t)] = by_pair[(t, s)] = (1.0 / narrowest, seconds)
    nodes = net.agent_node
    for i, k in zip(*np.nonzero(nodes[:, None] != nodes[None, :]), strict=True):
        found = by_pair.get((int(nodes[i]), int(nodes[k])))
        if found is not None and nodes[i] >= 0 and nodes[k] >= 0:
            per_data[i, k], fixed[i, k] = found
    return per_data, fixed
