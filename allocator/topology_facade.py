"""The topology side of the library's surface: parse a topology job and run it.

`api` and the job workers reach `solvers.topology` only through these functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pydantic import ValidationError

from allocator.problem_files import format_validation_error
from models import InputError
from models.topology_request import TopologyRequest
from models.topology_routing import main_paths
from solvers.topology import TopologyResult
from solvers.topology import optimize_topology as _optimize
from solvers.topology.flow_lp import route_design
from solvers.topology.space import build_space

__all__ = [
    "TopologyRequest",
    "TopologyResult",
    "optimize_topology",
    "parse_topology_request",
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
