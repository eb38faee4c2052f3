"""What the dashboard shows of a live swarm: per-agent queues, breakers and the KPIs,
read from a coordinator, plus an inline SVG of the topology with bottleneck links.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from pydantic import BaseModel, Field

from allocator.coordinator import Coordinator, CoordinatorSnapshot
from allocator.swarms import SwarmHub

__all__ = [
    "AgentLive",
    "LinkLive",
    "NodeLive",
    "SwarmFeed",
    "SwarmLive",
    "TopologyLive",
    "hub_feed",
    "ring_topology",
    "swarm_view",
    "topology_svg",
]


class AgentLive(BaseModel):
    """One agent as operators watch it."""

    id: str
    queue_length: int
    leased: int
    utilisation: float  # busy share of its slots since the swarm started, 0..1
    breaker: str  # closed, open, half_open
    in_use: float = 0.0  # share of its slots running a leased task right now, 0..1


class NodeLive(BaseModel):
    id: str
    x: float
    y: float


class LinkLive(BaseModel):
    a: str
    b: str
    utilisation: float = 0.0
    bottleneck: bool = False


class TopologyLive(BaseModel):
    """The swarm's network with positions (the feed lays it out) and hot links flagged."""

    nodes: list[NodeLive]
    links: list[LinkLive]


class SwarmLive(BaseModel):
    """One swarm's live view: agents, the KPI snapshot, and its topology if known."""

    name: str
    agents: list[AgentLive]
    kpis: dict[str, float] = Field(default_factory=dict)
    topology: TopologyLive | None = None
    # Workflows: held task -> the dead-lettered predecessor blocking it (first few).
    held: dict[str, str] = Field(default_factory=dict)
    # Token usage reported with completions: total tokens and their cost.
    tokens: int = 0
    token_cost: float = 0.0


# The service sets `app.state.swarm_feed` to one of these; it must read each
# coordinator under that swarm's lock (the coordinator itself is not thread-safe).
SwarmFeed = Callable[[], Sequence[SwarmLive]]

_KPI_KEYS = (
    "agents",
    "queued",
    "leased",
    "completed",
    "throughput_per_s",
    "utilisation_efficiency",
    "load_variance",
    "jain_fairness",
    "queue_latency_p50_s",
    "queue_latency_p95_s",
    "queue_latency_p99_s",
    "steals_succeeded",
    "tasks_stolen",
    "migrations",
    "migration_rate",
    "breakers_open",
    "waiting",
    "held",
)


_HELD_SHOWN = 10


def swarm_view(
    name: str,
    source: Coordinator | CoordinatorSnapshot,
    topology: TopologyLive | None = None,
) -> SwarmLive:
    """The dashboard's view of a coordinator's snapshot (a coordinator: call under its lock)."""
    snapshot = source if isinstance(source, CoordinatorSnapshot) else source.snapshot()
    metrics = snapshot.metrics.to_dict()
    agents = [
        AgentLive(
            id=a.id,
            queue_length=a.queued,
            leased=a.leased,
            utilisation=a.utilisation,  # the coordinator's utilisation KPI, per agent
            breaker=a.breaker,
            in_use=min(1.0, a.leased / max(a.slots, 1)),
        )
        for a in snapshot.agents
    ]
    kpis = {k: float(metrics[k]) for k in _KPI_KEYS if isinstance(metrics.get(k), int | float)}
    slots = sum(max(a.slots, 1) for a in snapshot.agents)
    if slots:  # leased work counts now, not only once it completes (busy time)
        kpis["in_use_now"] = min(1.0, sum(a.leased for a in snapshot.agents) / slots)
    held = dict(sorted(snapshot.held.items())[:_HELD_SHOWN])
    used = snapshot.tokens
    return SwarmLive(
        name=name,
        agents=agents,
        kpis=kpis,
        topology=topology,
        held=held,
        tokens=used.total.tokens if used else 0,
        token_cost=used.total.cost if used else 0.0,
    )


def topology_svg(topology: TopologyLive, width: int = 520, height: int = 320) -> str:
    """Nodes and links as inline SVG; bottleneck links thick and red, width by utilisation."""
    if not topology.nodes:
        return ""
    xs = [n.x for n in topology.nodes]
    ys = [n.y for n in topology.nodes]
    pad = 28

    def scale(v: float, lo: float, hi: float, size: int) -> float:
        return round(pad + (v - lo) / ((hi - lo) or 1.0) * (size - 2 * pad), 1)

    pos = {
        n.id: (scale(n.x, min(xs), max(xs), width), scale(n.y, min(ys), max(ys), height))
        for n in topology.nodes
    }
    parts = [
        f'<svg class="chart" data-chart="topology" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="swarm topology; red links are bottlenecks" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for link in topology.links:
        if link.a not in pos or link.b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[link.a], pos[link.b]
        colour = "#D62728" if link.bottleneck else "#8a94a6"
        stroke = 4.0 if link.bottleneck else 1.0 + 2.5 * min(max(link.utilisation, 0.0), 1.0)
        parts.append(
            f'<line class="pt link{" bottleneck" if link.bottleneck else ""}" x1="{x1}" '
            f'y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="{stroke:.1f}">'
            f"<title>{escape(link.a)}–{escape(link.b)}: {link.utilisation:.0%} used"
            "</title></line>"
        )
    for node in topology.nodes:
        x, y = pos[node.id]
        parts.append(
            f'<g class="pt node"><circle cx="{x}" cy="{y}" r="7" fill="#0072B2"/>'
            f'<text x="{x}" y="{y - 11}" text-anchor="middle" font-size="11">{escape(node.id)}'
            "</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def ring_topology(names: Sequence[str], hot: Sequence[tuple[str, str]] = ()) -> TopologyLive:
    """A ring layout for a list of nodes (handy for demos and tests)."""
    n = max(len(names), 1)
    nodes = [
        NodeLive(id=name, x=math.cos(2 * math.pi * k / n), y=math.sin(2 * math.pi * k / n))
        for k, name in enumerate(names)
    ]
    hot_set = {frozenset(h) for h in hot}
    links = [
        LinkLive(
            a=names[k],
            b=names[(k + 1) % n],
            utilisation=0.3,
            bottleneck=frozenset((names[k], names[(k + 1) % n])) in hot_set,
        )
        for k in range(len(names))
    ]
    return TopologyLive(nodes=nodes, links=links)


def hub_feed(hub: SwarmHub) -> SwarmFeed:
    """The dashboard's feed over the service's swarms, each read under its own lock.

    Wire it in the app factory: `app.state.swarm_feed = hub_feed(services.swarms)`.
    """

    def feed() -> list[SwarmLive]:
        views = []
        for name in hub.names():
            views.append(swarm_view(name, hub.get(name).view()))
        return views

    return feed
