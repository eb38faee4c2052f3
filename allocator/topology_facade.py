"""The topology side of the library's surface: parse a topology job and run it.

`api` and the job workers reach `solvers.topology` only through these functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pydantic import ValidationError

from allocator.problem_files import format_validation_error
from models import InputError
from models.plan import Plan
from models.schema import Problem
from models.topology_request import TopologyRequest
from models.topology_routing import RoutingSummary, main_paths
from solvers.topology import TopologyResult
from solvers.topology import optimize_topology as _optimize
from solvers.topology.flow_lp import route_design
from solvers.topology.job import routing_summary
from solvers.topology.space import build_space

__all__ = [
    "TopologyRequest",
    "TopologyResult",
    "optimize_topology",
    "parse_topology_request",
    "placement_routing",
    "routed_paths",
]


def parse_topology_request(document: object) -> tuple[TopologyRequest, float]:
    """Validate a topology job document; returns it and its time limit in seconds.

    Raises:
        InputError: the document is not a valid topology request.
    """
    if not isinstance(document, dict):
        raise InputError("a topology request must be a JSON object")
    try:
        request = TopologyRequest.model_validate(document)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc)) from exc
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return request, request.time_limit_s


def optimize_topology(
    request: TopologyRequest,
    *,
    on_progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> TopologyResult:
    """Optimise the topology of `request` within its time limit.

    `on_progress` and `stop` are accepted for symmetry with `solve`; the optimiser
    is bounded by `request.time_limit_s` and does not take them yet.
    """
    del on_progress, stop
    return _optimize(request)


def routed_paths(request: TopologyRequest) -> dict[tuple[str, str], list[str]]:
    """The node path each pair's traffic mostly takes when the request's topology routes its
    traffic within bandwidth: pass it to `models.workflow.compile_workflow(problem, routes)`
    so workflow transfers follow the routed paths rather than the cheapest ones."""
    space = build_space(request)
    routing = route_design(space.current, space.latency, space.bandwidth, space.traffic, paths=True)
    return main_paths(routing, space.nodes)


def placement_routing(problem: Problem, plan: Plan) -> RoutingSummary | None:
    """How a placement's communication loads the problem's topology, routed within link
    bandwidth where it can be: None without a topology or communication between tasks
    on different nodes. `fits` False means no routing (exact LP on small topologies)
    keeps every link within bandwidth; `topology optimize` with this plan designs one.
    """
    if problem.topology is None or not problem.communication:
        return None
    node_of = {a.id: a.node for a in problem.agents}
    # Tasks on agents without a node exchange data off the topology: no link carries it.
    on_nodes = {t: a for t, a in plan.assignments.items() if node_of.get(a) is not None}
    request = TopologyRequest(
        name=problem.name,
        topology=problem.topology,
        agents=problem.agents,
        communication=[c for c in problem.communication if c.a in on_nodes and c.b in on_nodes],
        plan=Plan(assignments=on_nodes),
    )
    space = build_space(request)
    return routing_summary(space, space.current)
