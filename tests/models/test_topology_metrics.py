"""Topology metrics against values worked out by hand on small graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from models.topology_metrics import (
    all_pairs_latency,
    route_traffic,
    topology_metrics,
    traffic_weighted_latency,
)


def _path_graph() -> nx.Graph:
    """a -1ms- b -2ms- c, plus a slow direct a-c of 5 ms."""
    g = nx.Graph()
    g.add_edge("a", "b", latency_ms=1.0, bandwidth=10.0, cost=1.0)
    g.add_edge("b", "c", latency_ms=2.0, bandwidth=10.0, cost=2.0)
    g.add_edge("a", "c", latency_ms=5.0, bandwidth=10.0, cost=4.0)
    return g


def test_all_pairs_latency_takes_the_fastest_path() -> None:
    lat = all_pairs_latency(_path_graph(), ["a", "b", "c"])
    assert lat.tolist() == [[0, 1, 3], [1, 0, 2], [3, 2, 0]]


def test_traffic_weighted_latency_by_hand() -> None:
    lat = all_pairs_latency(_path_graph(), ["a", "b", "c"])
    traffic = np.array([[0, 2, 6], [2, 0, 0], [6, 0, 0]], dtype=float)
    # (2 * 1 + 6 * 3) / (2 + 6) = 2.5
    assert traffic_weighted_latency(lat, traffic) == pytest.approx(2.5)
    assert traffic_weighted_latency(lat, np.zeros((3, 3))) is None


def test_metrics_on_a_triangle_by_hand() -> None:
    traffic = np.array([[0, 2, 12], [2, 0, 0], [12, 0, 0]], dtype=float)
    m = topology_metrics(_path_graph(), traffic)
    assert m.connected and m.n_links == 3 and m.max_degree == 2
    assert m.total_link_cost == 7.0
    assert m.diameter_ms == 3.0 and m.diameter_hops == 1
    assert m.mean_path_latency_ms == pytest.approx((1 + 3 + 2) / 3)
    assert m.node_connectivity == 2 and m.edge_connectivity == 2
    assert m.algebraic_connectivity == pytest.approx(3.0)  # K3: eigenvalues 0, 3, 3
    assert m.traffic_latency == pytest.approx(2 * 1 + 12 * 3)
    assert m.traffic_weighted_latency_ms == pytest.approx(38 / 14)
    # a-c traffic (12) goes a-b-c: b relays it, and b-c carries 12 > bandwidth 10.
    assert m.bottleneck_nodes[0].node == "b" and m.bottleneck_nodes[0].traffic_through == 12
    assert [(ll.a, ll.b, ll.traffic) for ll in m.overloaded_links] == [
        ("a", "b", 14.0),
        ("b", "c", 12.0),
    ]


def test_ring_and_star_connectivity() -> None:
    ring = nx.cycle_graph(4)
    m = topology_metrics(nx.relabel_nodes(ring, str))
    assert m.algebraic_connectivity == pytest.approx(2.0)  # C4: 2 - 2 cos(2 pi / 4)
    assert m.diameter_hops == 2 and m.node_connectivity == 2
    star = topology_metrics(nx.relabel_nodes(nx.star_graph(4), str))
    assert star.node_connectivity == 1 and star.algebraic_connectivity == pytest.approx(1.0)


def test_disconnected_graph_reports_unreachable_traffic() -> None:
    g = nx.Graph()
    g.add_edge("a", "b", latency_ms=1.0)
    g.add_node("c")
    traffic = np.array([[0, 1, 4], [1, 0, 0], [4, 0, 0]], dtype=float)
    m = topology_metrics(g, traffic)
    assert not m.connected and m.diameter_ms is None
    assert m.unreachable_traffic == 4 and m.traffic_weighted_latency_ms == 1.0


def test_routing_loads_each_link_on_the_path() -> None:
    g = nx.relabel_nodes(nx.path_graph(4), str)
    traffic = np.zeros((4, 4))
    traffic[0, 3] = traffic[3, 0] = 5.0
    loads, relayed = route_traffic(g, ["0", "1", "2", "3"], traffic)
    assert loads == {("0", "1"): 5.0, ("1", "2"): 5.0, ("2", "3"): 5.0}
    assert relayed.tolist() == [0, 5, 5, 0]
