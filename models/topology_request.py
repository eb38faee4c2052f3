"""The topology-job input: a topology, its traffic, the design constraints and link prices.

Traffic comes as node pairs, a node x node matrix, or tasks' communication volumes with a
plan (task -> agent) and the agents' nodes; all three add up into one node traffic matrix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.errors import InputError
from models.numeric_ranges import check_numbers
from models.plan import Plan
from models.schema import Agent, Communication, Topology
from models.topology_graph import LinkPricing, read_topology_file, validation_error_to_input

__all__ = [
    "NewLinkModel",
    "NodeTraffic",
    "TopologyConstraints",
    "TopologyRequest",
    "load_topology_request",
    "node_traffic_matrix",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _numbers_in_range(self) -> _Strict:
        check_numbers(self)  # the request schema's number rules (models/numeric_ranges.py)
        return self


class NodeTraffic(_Strict):
    """Traffic volume between two topology nodes (symmetric, e.g. MB per second)."""

    a: str
    b: str
    volume: float = Field(gt=0)


class TopologyConstraints(_Strict):
    """What every designed topology must satisfy."""

    max_degree: int | None = Field(default=None, ge=1, description="Links per node at most.")
    link_budget: float | None = Field(
        default=None, ge=0, description="Total link cost at most (sum of Link.cost)."
    )
    min_connectivity: int = Field(
        default=1, ge=1, description="k: stays connected after losing any k-1 nodes."
    )
    max_diameter_ms: float | None = Field(
        default=None, gt=0, description="Longest shortest-path latency between any two nodes."
    )


class NewLinkModel(_Strict):
    """Latency and cost of a link the designer adds (existing links keep their own)."""

    base_latency_ms: float = Field(default=1.0, gt=0)
    latency_per_distance_ms: float = Field(
        default=0.0, ge=0, description="Added per unit of x/y distance when nodes have positions."
    )
    link_cost_per_unit: float = Field(default=1.0, ge=0, description="Link cost per ms of latency.")
    bandwidth: float = Field(default=1000.0, gt=0)

    def pricing(self) -> LinkPricing:
        return LinkPricing(
            base_latency_ms=self.base_latency_ms,
            latency_per_distance_ms=self.latency_per_distance_ms,
            cost_per_ms=self.link_cost_per_unit,
            bandwidth=self.bandwidth,
        )


class TopologyRequest(_Strict):
    """A topology optimisation job.

    Objective (minimised): sum over node pairs of traffic x path latency, plus
    `cost_weight` x total link cost.
    """

    name: str = "topology"
    topology: Topology
    traffic: list[NodeTraffic] = Field(default_factory=list)
    traffic_matrix: list[list[float]] | None = Field(
        default=None, description="traffic[i][k] between topology.nodes[i] and nodes[k]."
    )
    agents: list[Agent] = Field(default_factory=list, description="Agents and their nodes.")
    communication: list[Communication] = Field(default_factory=list)
    plan: Plan | None = Field(default=None, description="Task -> agent, for communication.")
    constraints: TopologyConstraints = Field(default_factory=TopologyConstraints)
    new_links: NewLinkModel = Field(default_factory=NewLinkModel)
    cost_weight: float = Field(
        default=0.0, ge=0, description="Objective units (traffic x ms) per unit of link cost."
    )
    threshold: float = Field(
        default=0.1, ge=0, description="Apply only if the objective drops by this fraction."
    )
    method: Literal["heuristic", "milp", "auto"] = "heuristic"
    time_limit_s: float = Field(default=10.0, gt=0)
    seed: int = 0

    @model_validator(mode="after")
    def _references_resolve(self) -> TopologyRequest:
        nodes = {n.id for n in self.topology.nodes}
        for k, t in enumerate(self.traffic):
            for end in (t.a, t.b):
                if end not in nodes:
                    raise ValueError(
                        f"traffic.{k} names unknown node {end!r}; use one of topology.nodes"
                    )
        if self.traffic_matrix is not None:
            n = len(self.topology.nodes)
            if len(self.traffic_matrix) != n or any(len(r) != n for r in self.traffic_matrix):
                raise ValueError(f"traffic_matrix must be {n} x {n}, one row per topology node")
            if any(v < 0 for row in self.traffic_matrix for v in row):
                raise ValueError("traffic_matrix has a negative entry; use values >= 0")
        agent_node = {a.id: a.node for a in self.agents}
        for a in self.agents:
            if a.node is not None and a.node not in nodes:
                raise ValueError(f"agent {a.id} sits on unknown node {a.node!r}")
        if self.communication and self.plan is None:
            raise ValueError("communication needs a plan (task -> agent) to place the traffic")
        if self.plan is not None:
            for task, agent in self.plan.assignments.items():
                if agent not in agent_node:
                    raise ValueError(f"plan puts task {task!r} on unknown agent {agent!r}")
                if agent_node[agent] is None:
                    raise ValueError(f"agent {agent!r} has no node; set agents[].node")
            for c in self.communication:
                for task in (c.a, c.b):
                    if task not in self.plan.assignments:
                        raise ValueError(f"communication names task {task!r} the plan leaves out")
        return self


def node_traffic_matrix(request: TopologyRequest) -> np.ndarray:
    """Symmetric float64[n, n] with zero diagonal, in topology.nodes order. O(n^2 + entries)."""
    index = {node.id: i for i, node in enumerate(request.topology.nodes)}
    n = len(index)
    traffic = np.zeros((n, n), dtype=np.float64)
    for t in request.traffic:
        traffic[index[t.a], index[t.b]] += t.volume
    if request.traffic_matrix is not None:
        traffic += np.asarray(request.traffic_matrix, dtype=np.float64)
    if request.plan is not None and request.communication:
        agent_node = {a.id: a.node for a in request.agents}
        for c in request.communication:
            na = agent_node[request.plan.assignments[c.a]]
            nb = agent_node[request.plan.assignments[c.b]]
            if na is not None and nb is not None:
                traffic[index[na], index[nb]] += c.volume
    traffic = traffic + traffic.T
    np.fill_diagonal(traffic, 0.0)
    return traffic


def load_topology_request(path: str | Path) -> TopologyRequest:
    """Read a request file; a bare topology (JSON, node-link JSON, GraphML) gets no traffic."""
    path = Path(path)
    source = str(path)
    if path.suffix.lower() in (".graphml", ".xml"):
        return TopologyRequest(topology=read_topology_file(path))
    if not path.is_file():
        raise InputError("file not found; check the path", source=source)
    try:
        data: Any = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}: {exc.msg})", source=source) from None
    if isinstance(data, dict) and "topology" not in data:
        return TopologyRequest(topology=read_topology_file(path))
    try:
        return TopologyRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_input(exc, source) from None
