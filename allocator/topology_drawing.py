"""Before/after drawings of a topology as SVG, with bottleneck links highlighted in red.

Uses matplotlib's object API with the SVG canvas, so no global backend is switched.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from models.topology_metrics import TopologyMetrics

__all__ = ["draw_before_after", "draw_topology"]

Edge = tuple[str, str]


def _key(a: str, b: str) -> Edge:
    return (a, b) if a <= b else (b, a)


def _layout(graphs: Iterable[nx.Graph], seed: int) -> dict[str, tuple[float, float]]:
    """Node x/y when every node has them, else one spring layout shared by all panels."""
    union = nx.Graph()
    for g in graphs:
        union.add_nodes_from(g.nodes(data=True))
        union.add_edges_from(g.edges())
    xy = {n: (d.get("x"), d.get("y")) for n, d in union.nodes(data=True)}
    if xy and all(x is not None and y is not None for x, y in xy.values()):
        return {n: (float(x), float(y)) for n, (x, y) in xy.items()}
    return {n: (float(p[0]), float(p[1])) for n, p in nx.spring_layout(union, seed=seed).items()}


def _hot_links(metrics: TopologyMetrics | None) -> set[Edge]:
    """Overloaded links, or else the busiest ones."""
    if metrics is None:
        return set()
    hot = metrics.overloaded_links or metrics.bottleneck_links[:3]
    return {_key(link.a, link.b) for link in hot}


def _panel(
    ax: Axes,
    graph: nx.Graph,
    pos: dict[str, tuple[float, float]],
    title: str,
    hot: set[Edge],
    marked: set[Edge],
    marked_colour: str,
) -> None:
    edges = [_key(str(a), str(b)) for a, b in graph.edges()]
    plain = [e for e in edges if e not in hot and e not in marked]
    nx.draw_networkx_edges(graph, pos, edgelist=plain, ax=ax, edge_color="#888888", width=1.0)
    nx.draw_networkx_edges(
        graph,
        pos,
        edgelist=[e for e in edges if e in marked and e not in hot],
        ax=ax,
        edge_color=marked_colour,
        width=2.0,
    )
    nx.draw_networkx_edges(
        graph, pos, edgelist=[e for e in edges if e in hot], ax=ax, edge_color="#d62728", width=3.0
    )
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=260, node_color="#9ecae1")
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=7)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()


def draw_topology(
    graph: nx.Graph, path: str | Path, *, metrics: TopologyMetrics | None = None, title: str = ""
) -> Path:
    """One topology to an SVG file; bottleneck links in red. Returns the path written."""
    fig = Figure(figsize=(6, 5))
    FigureCanvasSVG(fig)
    pos = _layout([graph], seed=0)
    _panel(fig.add_subplot(1, 1, 1), graph, pos, title, _hot_links(metrics), set(), "#2ca02c")
    out = Path(path)
    fig.savefig(out, format="svg", bbox_inches="tight")
    return out


def draw_before_after(
    before: nx.Graph,
    after: nx.Graph,
    path: str | Path,
    *,
    before_metrics: TopologyMetrics | None = None,
    after_metrics: TopologyMetrics | None = None,
    title: str = "",
) -> Path:
    """Side-by-side SVG: links to remove in orange on the left, added ones green on the right."""
    fig = Figure(figsize=(11, 5))
    FigureCanvasSVG(fig)
    pos = _layout([before, after], seed=0)
    old = {_key(str(a), str(b)) for a, b in before.edges()}
    new = {_key(str(a), str(b)) for a, b in after.edges()}

    def label(name: str, m: TopologyMetrics | None) -> str:
        if m is None or m.traffic_weighted_latency_ms is None:
            return name
        tw = m.traffic_weighted_latency_ms
        return f"{name}: {tw:.3g} ms traffic-weighted, link cost {m.total_link_cost:.3g}"

    _panel(
        fig.add_subplot(1, 2, 1),
        before,
        pos,
        label("before", before_metrics),
        _hot_links(before_metrics),
        old - new,
        "#ff7f0e",
    )
    _panel(
        fig.add_subplot(1, 2, 2),
        after,
        pos,
        label("after", after_metrics),
        _hot_links(after_metrics),
        new - old,
        "#2ca02c",
    )
    if title:
        fig.suptitle(title)
    out = Path(path)
    fig.savefig(out, format="svg", bbox_inches="tight")
    return out
