"""Topology graphs: generators, schema round trips, file readers and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from models.errors import InputError
from models.plan import Plan
from models.schema import Agent, Communication, Link, Topology, TopologyNode
from models.topology_graph import (
    generate,
    graph_to_topology,
    hypercube,
    read_topology_file,
    require_connected,
    topology_to_graph,
    torus_2d,
    tree,
)
from models.topology_request import TopologyRequest, load_topology_request, node_traffic_matrix

NODES = [f"n{i}" for i in range(8)]


@pytest.mark.parametrize(
    ("kind", "links", "max_degree"),
    [
        ("full_mesh", 28, 7),
        ("star", 7, 7),
        ("ring", 8, 2),
        ("tree", 7, 3),
        ("hypercube", 12, 3),
        ("torus_2d", 12, 3),  # 2 x 4: the vertical wrap doubles the one vertical link
        ("small_world", 16, None),
    ],
)
def test_generators_have_the_expected_shape(kind: str, links: int, max_degree: int | None) -> None:
    g = generate(kind, NODES, k=4, seed=3)
    assert sorted(g.nodes) == sorted(NODES)
    assert g.number_of_edges() == links
    assert nx.is_connected(g)
    if max_degree is not None:
        assert max(d for _, d in g.degree()) == max_degree
    assert all(data["latency_ms"] == 1.0 for _, _, data in g.edges(data=True))


def test_small_world_is_seeded() -> None:
    a = generate("small_world", NODES, k=4, p=0.5, seed=1)
    b = generate("small_world", NODES, k=4, p=0.5, seed=1)
    assert sorted(a.edges) == sorted(b.edges)


def test_tree_fan_out_and_partial_shapes_stay_connected() -> None:
    assert sorted(tree(NODES[:7], fan_out=3).edges) == sorted(
        [("n0", "n1"), ("n0", "n2"), ("n0", "n3"), ("n1", "n4"), ("n1", "n5"), ("n1", "n6")]
    )
    for n in range(2, 12):
        names = [str(i) for i in range(n)]
        assert nx.is_connected(hypercube(names))
        assert nx.is_connected(torus_2d(names)) or n < 2


def test_schema_round_trip_keeps_attributes() -> None:
    topo = Topology(
        nodes=[TopologyNode(id="a", x=0, y=0), TopologyNode(id="b", x=3, y=4)],
        links=[Link(a="a", b="b", latency_ms=2.5, bandwidth=10, cost=7)],
    )
    g = topology_to_graph(topo)
    assert g.edges["a", "b"] == {"latency_ms": 2.5, "bandwidth": 10, "cost": 7}
    assert graph_to_topology(g) == topo


def test_repeated_link_is_an_input_error() -> None:
    topo = Topology(
        nodes=[TopologyNode(id="a"), TopologyNode(id="b")],
        links=[Link(a="a", b="b"), Link(a="b", b="a")],
    )
    with pytest.raises(InputError, match="appears twice"):
        topology_to_graph(topo)


def test_disconnected_where_connectivity_is_required() -> None:
    g = nx.Graph([("a", "b"), ("c", "d")])
    with pytest.raises(InputError, match=r"disconnected.*add links"):
        require_connected(g, source="t.json")


def test_readers_accept_our_json_node_link_and_graphml(tmp_path: Path) -> None:
    ours = tmp_path / "ours.json"
    ours.write_text(
        json.dumps({"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"a": "a", "b": "b"}]})
    )
    assert len(read_topology_file(ours).links) == 1
    g = nx.path_graph(3)
    nx.set_edge_attributes(g, 4.0, "latency_ms")
    node_link = tmp_path / "nl.json"
    node_link.write_text(json.dumps(nx.node_link_data(g, edges="links")))
    topo = read_topology_file(node_link)
    assert [link.latency_ms for link in topo.links] == [4.0, 4.0]
    graphml = tmp_path / "g.graphml"
    nx.write_graphml(g, graphml)
    assert len(read_topology_file(graphml).links) == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"nodes": [{"id": "a"}], "links": [{"a": "a", "b": "ghost"}]}, "unknown node 'ghost'"),
        (
            {
                "nodes": [{"id": "a"}, {"id": "b"}],
                "links": [{"a": "a", "b": "b", "latency_ms": -1}],
            },
            "latency_ms",
        ),
        (
            {
                "nodes": [{"id": "a"}, {"id": "b"}],
                "links": [{"source": "a", "target": "b", "weight": -2}],
            },
            "use a value >= 0",
        ),
        ({"nodes": [{"id": "a"}], "links": [{"source": "a", "target": "zz"}]}, "unknown node 'zz'"),
    ],
)
def test_bad_files_name_the_file_and_field(tmp_path: Path, document: dict, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=message) as info:
        read_topology_file(path)
    assert str(path) in str(info.value)


def test_request_traffic_from_communication_and_plan(tmp_path: Path) -> None:
    request = TopologyRequest(
        topology=Topology(nodes=[TopologyNode(id="p"), TopologyNode(id="q")]),
        agents=[Agent(id="A", node="p"), Agent(id="B", node="q")],
        communication=[
            Communication(a="t1", b="t2", volume=5),
            Communication(a="t1", b="t3", volume=2),
        ],
        plan=Plan(assignments={"t1": "A", "t2": "B", "t3": "A"}),
        traffic_matrix=[[0, 1], [0, 0]],
    )
    traffic = node_traffic_matrix(request)
    assert traffic.tolist() == [[0, 6], [6, 0]]  # t1-t3 share a node: no network traffic


def test_request_loader_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "req.json"
    path.write_text(
        json.dumps({"topology": {"nodes": [{"id": "a"}]}, "constraints": {"max_degree": 0}})
    )
    with pytest.raises(InputError, match=r"req.json: constraints.max_degree"):
        load_topology_request(path)
