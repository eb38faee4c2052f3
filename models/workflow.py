"""Workflows: the task dependency graph (`Task.after`) and agent-to-agent transfer times.

A predecessor on another agent delays its successor by `data / bandwidth + latency`:
along the lowest-latency path between the agents' topology nodes (bandwidth is that
path's narrowest link, latency its summed `latency_ms` in seconds) when a topology is
given, otherwise `data / default_bandwidth`. On the same agent the transfer is free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.schema import Problem

__all__ = [
    "DependencyError",
    "WorkflowArrays",
    "check_dependencies",
    "compile_workflow",
    "transfer_matrices",
]


class DependencyError(ValueError):
    """A task's `after` list that cannot be scheduled: names the cycle or the bad id.

    A ValueError so pydantic validators turn it into a validation error (4xx / exit 2).
    """


def check_dependencies(after: Mapping[str, Sequence[str]]) -> None:
    """Raise DependencyError on a self-reference, an unknown id or a cycle.

    `after` maps each task id to its predecessors' ids. O(n + e).
    """
    for task, preds in after.items():
        for pred in preds:
            if pred == task:
                raise DependencyError(
                    f"task {task!r} lists itself in 'after'; remove the self-reference"
                )
            if pred not in after:
                raise DependencyError(
                    f"task {task!r} has unknown predecessor {pred!r} in 'after'; "
                    "name an existing task id"
                )
    if not any(after.values()):  # no edges, no cycle: most requests (networkx costs 0.2 ms)
        return
    # networkx is imported where a workflow needs it: ~0.25 s at import, which the CLI's
    # start would spend on every request.
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(after)
    graph.add_edges_from((pred, task) for task, preds in after.items() for pred in preds)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    names = [edge[0] for edge in cycle] + [cycle[0][0]]
    raise DependencyError(
        "tasks form a dependency cycle (each must finish before the next) "
        + " -> ".join(names)
        + "; remove one of these 'after' entries"
    )


@dataclass
class WorkflowArrays:
    """Dependencies as arrays, for solvers and the schedule check.

    Attributes:
        pred, succ: int32[e] task indices of each edge (pred runs before succ).
        data: float64[e] data volume sent along each edge.
        per_data: float64[m, m] seconds per data unit from agent a to agent b (0 on the diagonal).
        fixed: float64[m, m] latency seconds from agent a to agent b (0 on the diagonal;
            inf when the agents' nodes are not connected).
    """

    pred: np.ndarray
    succ: np.ndarray
    data: np.ndarray
    per_data: np.ndarray
    fixed: np.ndarray
    _in_edges: list[list[int]] | None = field(default=None, repr=False)
    _topological: list[int] | None = field(default=None, repr=False)

    @property
    def n_edges(self) -> int:
        return len(self.pred)

    def transfer(self, edge: int, from_agent: int, to_agent: int) -> float:
        """Seconds edge `edge` delays its successor when run on these agents."""
        if from_agent == to_agent:
            return 0.0
        return float(
            self.data[edge] * self.per_data[from_agent, to_agent] + self.fixed[from_agent, to_agent]
        )

    def in_edges(self, n_tasks: int) -> list[list[int]]:
        """Edge indices entering each task (cached)."""
        if self._in_edges is None:
            lists: list[list[int]] = [[] for _ in range(n_tasks)]
            for e, j in enumerate(self.succ.tolist()):
                lists[j].append(e)
            self._in_edges = lists
        return self._in_edges

    def topological_order(self, n_tasks: int) -> list[int]:
        """Task indices, every predecessor before its successors (smallest index first; cached)."""
        if self._topological is None:
            import networkx as nx  # lazily: see check_dependencies

            graph = nx.DiGraph()
            graph.add_nodes_from(range(n_tasks))
            graph.add_edges_from(zip(self.pred.tolist(), self.succ.tolist(), strict=True))
            self._topological = list(nx.lexicographical_topological_sort(graph))
        return list(self._topological)


def compile_workflow(
    problem: Problem, routes: Mapping[tuple[str, str], Sequence[str]] | None = None
) -> WorkflowArrays | None:
    """Arrays for the problem's dependencies, or None when no task has `after`.

    `routes`: see `transfer_matrices`."""
    task_index = {t.id: j for j, t in enumerate(problem.tasks)}
    pred: list[int] = []
    succ: list[int] = []
    data: list[float] = []
    for j, task in enumerate(problem.tasks):
        for entry in task.after:
            pred.append(task_index[entry.task])
            succ.append(j)
            data.append(entry.data)
    if not pred:
        return None
    per_data, fixed = transfer_matrices(problem, routes)
    return WorkflowArrays(
        pred=np.array(pred, dtype=np.int32),
        succ=np.array(succ, dtype=np.int32),
        data=np.array(data, dtype=np.float64),
        per_data=per_data,
        fixed=fixed,
    )


def transfer_matrices(
    problem: Problem, routes: Mapping[tuple[str, str], Sequence[str]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(seconds per data unit, latency seconds) between every pair of agents.

    Agents on the same node, or without a node, exchange data at `default_bandwidth`
    with no latency: no link lies between them. `routes` maps (node, node) to the node
    path traffic is routed on (e.g. `models.topology_routing.main_paths` of a routing
    within bandwidth); those pairs use that path instead of the lowest-latency one.
    """
    m = len(problem.agents)
    per_data = np.full((m, m), 1.0 / problem.default_bandwidth, dtype=np.float64)
    fixed = np.zeros((m, m), dtype=np.float64)
    topo = problem.topology
    if topo is not None:
        paths = _node_paths(problem, routes or {})
        nodes = [a.node for a in problem.agents]
        for i in range(m):
            for k in range(m):
                a, b = nodes[i], nodes[k]
                if a is None or b is None or a == b:
                    continue
                inverse_bandwidth, latency_s = paths.get((a, b), (0.0, np.inf))
                per_data[i, k] = inverse_bandwidth
                fixed[i, k] = latency_s
    np.fill_diagonal(per_data, 0.0)
    np.fill_diagonal(fixed, 0.0)
    return per_data, fixed


def _node_paths(
    problem: Problem, routes: Mapping[tuple[str, str], Sequence[str]]
) -> dict[tuple[str, str], tuple[float, float]]:
    """(1 / narrowest bandwidth, latency seconds) of the routed, else lowest-latency, path
    per node pair."""
    assert problem.topology is not None
    import networkx as nx  # lazily: see check_dependencies

    graph = nx.Graph()
    graph.add_nodes_from(n.id for n in problem.topology.nodes)
    for link in problem.topology.links:
        # Of parallel links keep the faster one: a transfer takes the best link it has.
        old = graph.get_edge_data(link.a, link.b)
        if old is None or link.latency_ms < old["latency_ms"]:
            graph.add_edge(link.a, link.b, latency_ms=link.latency_ms, bandwidth=link.bandwidth)
    used = {a.node for a in problem.agents if a.node is not None}
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for source in used:
        _, paths = nx.single_source_dijkstra(graph, source, weight="latency_ms")
        for target in used:
            if target == source or target not in paths:
                continue
            hops = list(routes.get((source, target), paths[target]))
            ends = hops[:1] == [source] and hops[-1:] == [target]
            if not ends or any(not graph.has_edge(u, v) for u, v in pairwise(hops)):
                raise ValueError(f"route {source}->{target} is not a path of the topology")
            narrowest = min(graph.edges[u, v]["bandwidth"] for u, v in pairwise(hops))
            latency_ms = sum(graph.edges[u, v]["latency_ms"] for u, v in pairwise(hops))
            out[(source, target)] = (1.0 / narrowest, latency_ms / 1000.0)
    return out
