"""Topology as a networkx graph: build it from the schema, generate standard shapes, read files.

Every graph here has string node ids and edges carrying `latency_ms`, `bandwidth` and `cost`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from pydantic import ValidationError

from models.errors import InputError
from models.schema import Link, Topology, TopologyNode

__all__ = [
    "GENERATOR_NAMES",
    "LinkPricing",
    "full_mesh",
    "generate",
    "graph_to_topology",
    "hypercube",
    "read_topology_file",
    "require_connected",
    "ring",
    "small_world",
    "star",
    "topology_from_data",
    "topology_to_graph",
    "torus_2d",
    "tree",
    "validation_error_to_input",
]

GENERATOR_NAMES = ("full_mesh", "star", "ring", "tree", "hypercube", "torus_2d", "small_world")


@dataclass(frozen=True)
class LinkPricing:
    """Attributes of a link that does not exist yet.

    latency = base_latency_ms + latency_per_distance_ms * euclidean distance (when both nodes
    have coordinates); cost = cost_per_ms * latency, so longer links cost more.
    """

    base_latency_ms: float = 1.0
    latency_per_distance_ms: float = 0.0
    cost_per_ms: float = 1.0
    bandwidth: float = 1000.0

    def attrs(self, graph: nx.Graph, a: str, b: str) -> dict[str, float]:
        latency = self.base_latency_ms
        pa, pb = _position(graph, a), _position(graph, b)
        if pa is not None and pb is not None:
            latency += self.latency_per_distance_ms * math.dist(pa, pb)
        return {
            "latency_ms": latency,
            "bandwidth": self.bandwidth,
            "cost": self.cost_per_ms * latency,
        }


def _position(graph: nx.Graph, node: str) -> tuple[float, float] | None:
    data = graph.nodes[node]
    x, y = data.get("x"), data.get("y")
    if x is None or y is None:
        return None
    return float(x), float(y)


def validation_error_to_input(
    exc: ValidationError, source: str | None, prefix: str = ""
) -> InputError:
    """The first pydantic error as one readable InputError naming the field."""
    first = exc.errors()[0]
    parts = [prefix] if prefix else []
    parts += [str(part) for part in first.get("loc", ())]
    field = ".".join(parts) or None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return InputError(message, source=source, field=field)


def topology_to_graph(topology: Topology, *, source: str | None = None) -> nx.Graph:
    """Schema -> graph. Raises InputError on a repeated link or a link from a node to itself."""
    graph = nx.Graph()
    for node in topology.nodes:
        graph.add_node(node.id, x=node.x, y=node.y)
    for k, link in enumerate(topology.links):
        field = f"topology.links.{k}"
        if link.a == link.b:
            raise InputError(
                f"link {link.a}-{link.b} joins a node to itself; remove it",
                source=source,
                field=field,
            )
        if graph.has_edge(link.a, link.b):
            raise InputError(
                f"link {link.a}-{link.b} appears twice; keep one", source=source, field=field
            )
        graph.add_edge(
            link.a, link.b, latency_ms=link.latency_ms, bandwidth=link.bandwidth, cost=link.cost
        )
    return graph


def graph_to_topology(graph: nx.Graph) -> Topology:
    """Graph -> schema; missing edge attributes get the schema defaults."""
    nodes = [
        TopologyNode(id=str(n), x=data.get("x"), y=data.get("y"))
        for n, data in graph.nodes(data=True)
    ]
    links = []
    for a, b, data in graph.edges(data=True):
        fields = {k: float(data[k]) for k in ("latency_ms", "bandwidth", "cost") if k in data}
        links.append(Link(a=str(a), b=str(b), **fields))
    return Topology(nodes=nodes, links=links)


def require_connected(
    graph: nx.Graph, *, source: str | None = None, field: str = "topology"
) -> None:
    """Raise InputError naming the separate pieces when the graph is not connected."""
    if graph.number_of_nodes() == 0:
        raise InputError("the topology has no nodes; add some", source=source, field=field)
    if nx.is_connected(graph):
        return
    parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=len)
    shown = ", ".join(
        "{" + ", ".join(p[:4]) + (", ..." if len(p) > 4 else "") + "}" for p in parts[:3]
    )
    raise InputError(
        f"the topology is disconnected ({len(parts)} pieces: {shown}); add links joining them",
        source=source,
        field=field,
    )


# ---------------------------------------------------------------- generators


def _labelled(
    shape: nx.Graph,
    nodes: Sequence[str],
    positions: Mapping[str, tuple[float, float]] | None,
    pricing: LinkPricing | None,
) -> nx.Graph:
    """Relabel integer nodes 0..n-1 to `nodes` and give every edge its priced attributes."""
    pricing = pricing or LinkPricing()
    graph = nx.Graph()
    for name in nodes:
        x, y = positions[name] if positions and name in positions else (None, None)
        graph.add_node(name, x=x, y=y)
    for u, v in shape.edges():
        a, b = nodes[u], nodes[v]
        graph.add_edge(a, b, **pricing.attrs(graph, a, b))
    return graph


def _check_nodes(nodes: Sequence[str], minimum: int = 1) -> None:
    if len(nodes) < minimum:
        raise InputError(f"this topology needs at least {minimum} nodes; got {len(nodes)}")
    if len(set(nodes)) != len(nodes):
        raise InputError("node names repeat; give every node a unique name")


Positions = Mapping[str, tuple[float, float]] | None


def full_mesh(
    nodes: Sequence[str], positions: Positions = None, pricing: LinkPricing | None = None
) -> nx.Graph:
    """Every pair linked: n(n-1)/2 links."""
    _check_nodes(nodes)
    return _labelled(nx.complete_graph(len(nodes)), nodes, positions, pricing)


def star(
    nodes: Sequence[str], positions: Positions = None, pricing: LinkPricing | None = None
) -> nx.Graph:
    """The first node is the hub."""
    _check_nodes(nodes)
    return _labelled(nx.star_graph(len(nodes) - 1), nodes, positions, pricing)


def ring(
    nodes: Sequence[str], positions: Positions = None, pricing: LinkPricing | None = None
) -> nx.Graph:
    """A cycle in the given order (a single link for two nodes)."""
    _check_nodes(nodes)
    return _labelled(nx.cycle_graph(len(nodes)), nodes, positions, pricing)


def tree(
    nodes: Sequence[str],
    fan_out: int = 2,
    positions: Positions = None,
    pricing: LinkPricing | None = None,
) -> nx.Graph:
    """A hierarchy: node k's parent is node (k - 1) // fan_out, so the first node is the root."""
    _check_nodes(nodes)
    if fan_out < 1:
        raise InputError(f"fan_out is {fan_out}; use 1 or more", field="fan_out")
    shape = nx.Graph()
    shape.add_nodes_from(range(len(nodes)))
    shape.add_edges_from((k, (k - 1) // fan_out) for k in range(1, len(nodes)))
    return _labelled(shape, nodes, positions, pricing)


def hypercube(
    nodes: Sequence[str], positions: Positions = None, pricing: LinkPricing | None = None
) -> nx.Graph:
    """Nodes k and k ^ 2**b are linked; for n not a power of two, the first n corners.

    That induced sub-cube stays connected: any k < n reaches 0 by clearing bits one by one.
    """
    _check_nodes(nodes)
    n = len(nodes)
    shape = nx.Graph()
    shape.add_nodes_from(range(n))
    for k in range(n):
        bit = 1
        while bit < n:
            if (k ^ bit) < n:
                shape.add_edge(k, k ^ bit)
            bit <<= 1
    return _labelled(shape, nodes, positions, pricing)


def torus_2d(
    nodes: Sequence[str],
    positions: Positions = None,
    pricing: LinkPricing | None = None,
    *,
    rows: int | None = None,
) -> nx.Graph:
    """A rows x cols grid with wrap-around, filled row by row (the last row may be short)."""
    _check_nodes(nodes)
    n = len(nodes)
    rows = rows or max(1, int(math.sqrt(n)))
    cols = math.ceil(n / rows)
    shape = nx.Graph()
    shape.add_nodes_from(range(n))
    for k in range(n):
        r, c = divmod(k, cols)
        in_row = min(cols, n - r * cols)
        right = r * cols + (c + 1) % in_row
        col_len = len(range(c, n, cols))
        down = ((r + 1) % col_len) * cols + c
        for other in (right, down):
            if other != k:
                shape.add_edge(k, other)
    return _labelled(shape, nodes, positions, pricing)


def small_world(
    nodes: Sequence[str],
    k: int = 4,
    p: float = 0.1,
    seed: int = 0,
    positions: Positions = None,
    pricing: LinkPricing | None = None,
) -> nx.Graph:
    """Connected Watts-Strogatz: a ring lattice of k neighbours with rewiring probability p."""
    _check_nodes(nodes, minimum=3)
    k = max(2, min(k, len(nodes) - 1))
    shape = nx.connected_watts_strogatz_graph(len(nodes), k, p, tries=200, seed=seed)
    return _labelled(shape, nodes, positions, pricing)


def generate(
    kind: str,
    nodes: Sequence[str],
    *,
    fan_out: int = 2,
    k: int = 4,
    p: float = 0.1,
    seed: int = 0,
    positions: Positions = None,
    pricing: LinkPricing | None = None,
) -> nx.Graph:
    """One generator by name (see GENERATOR_NAMES)."""
    if kind == "tree":
        return tree(nodes, fan_out, positions, pricing)
    if kind == "small_world":
        return small_world(nodes, k, p, seed, positions, pricing)
    simple: dict[str, Callable[[Sequence[str], Positions, LinkPricing | None], nx.Graph]] = {
        "full_mesh": full_mesh,
        "star": star,
        "ring": ring,
        "hypercube": hypercube,
        "torus_2d": torus_2d,
    }
    if kind not in simple:
        raise InputError(f"unknown generator {kind!r}; use one of {', '.join(GENERATOR_NAMES)}")
    return simple[kind](nodes, positions, pricing)


# ---------------------------------------------------------------- readers


def topology_from_data(data: Any, *, source: str | None = None) -> Topology:
    """Our JSON (`nodes` + `links` with a/b), a document holding `topology`, or node-link JSON."""
    if isinstance(data, dict) and isinstance(data.get("topology"), dict):
        data = data["topology"]
        prefix = "topology"
    else:
        prefix = ""
    if not isinstance(data, dict) or "nodes" not in data:
        raise InputError("expected a JSON object with 'nodes' and 'links'", source=source)
    links = data.get("links", data.get("edges")) or []
    if not isinstance(links, list):
        raise InputError("'links' must be a list", source=source, field=prefix or None)
    if any(isinstance(link, dict) and "source" in link for link in links):
        return _from_node_link(data, source)
    try:
        return Topology.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_input(exc, source, prefix) from None


def _from_node_link(data: dict[str, Any], source: str | None) -> Topology:
    links = data.get("links", data.get("edges")) or []
    graph = nx.Graph()
    for k, node in enumerate(data["nodes"]):
        if not isinstance(node, dict) or "id" not in node:
            raise InputError("each node needs an 'id'", source=source, field=f"nodes.{k}")
        graph.add_node(str(node["id"]), x=node.get("x"), y=node.get("y"))
    for k, link in enumerate(links):
        a, b = str(link.get("source")), str(link.get("target"))
        for end in (a, b):
            if end not in graph:
                raise InputError(
                    f"link {a}-{b} names unknown node {end!r}; add it to nodes",
                    source=source,
                    field=f"links.{k}",
                )
        graph.add_edge(a, b, **_edge_attrs(link, source, f"links.{k}"))
    return graph_to_topology(graph)


def _edge_attrs(raw: Mapping[str, Any], source: str | None, field: str) -> dict[str, float]:
    """Accept latency under `latency_ms`, `latency` or `weight`; reject negative values."""
    out: dict[str, float] = {}
    for key, names in (
        ("latency_ms", ("latency_ms", "latency", "weight")),
        ("bandwidth", ("bandwidth",)),
        ("cost", ("cost",)),
    ):
        for name in names:
            if name in raw and raw[name] is not None:
                try:
                    value = float(raw[name])
                except (TypeError, ValueError):
                    raise InputError(
                        f"{name} is {raw[name]!r}; use a number",
                        source=source,
                        field=f"{field}.{name}",
                    ) from None
                if value < 0 or (key == "bandwidth" and value == 0):
                    bound = "> 0" if key == "bandwidth" else ">= 0"
                    raise InputError(
                        f"{name} is {value}; use a value {bound}",
                        source=source,
                        field=f"{field}.{name}",
                    )
                out[key] = value
                break
    return out


def read_topology_file(path: str | Path) -> Topology:
    """Read our JSON, node-link JSON or GraphML (by extension). Errors name the file."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("file not found; check the path", source=source)
    if path.suffix.lower() in (".graphml", ".xml"):
        try:
            raw = nx.read_graphml(path)
        except Exception as exc:  # networkx raises several XML error types
            raise InputError(f"not valid GraphML ({exc})", source=source) from None
        graph = nx.Graph()
        for n, data in raw.nodes(data=True):
            graph.add_node(str(n), x=data.get("x"), y=data.get("y"))
        for a, b, data in raw.edges(data=True):
            graph.add_edge(str(a), str(b), **_edge_attrs(data, source, f"edge {a}-{b}"))
        return graph_to_topology(graph)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}: {exc.msg})", source=source) from None
    return topology_from_data(data, source=source)
