"""What the exact engines' link-capacity rows are built over (issue 15), shared by the
MILP and CP-SAT so both model bandwidth on the same problems.

The placement's traffic is a multi-commodity flow aggregated by source node: for each
communicating pair and ordered node pair (s, w) joined by a path, a pair variable says
the pair's volume goes from s to w; per source node, a flow on each directed arc; per
link, both directions' flow within bandwidth. Built only when some plan could overload
a link, the rows stay small, and the evaluator routes every possible traffic exactly
(`models.routing_exact.EXACT_VARIABLES`: up to about 9 nodes), so rows and evaluator agree.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem
from models.routing_exact import EXACT_VARIABLES

__all__ = [
    "CPSAT_LINK_COLUMNS",
    "MAX_LINK_COLUMNS",
    "arcs",
    "models_link_capacity",
    "node_columns",
    "ordered_pairs",
]

#: At most this many pair and flow variables: the rows go in only on small topologies.
MAX_LINK_COLUMNS = 20_000
#: CP-SAT's limit: its integer flows (units of 1/60 and finer) make a first plan hard
#: to find; 60 tasks x 8 agents on 5 nodes (660 variables) gave none in 5 s, where the
#: relaxation plus the repair gives one.
CPSAT_LINK_COLUMNS = 500


def ordered_pairs(problem: CompiledProblem) -> tuple[np.ndarray, np.ndarray]:
    """Ordered node pairs (s, w), s != w, joined by a path."""
    net = problem.network
    assert net is not None
    reach = np.isfinite(net.distance) & ~np.eye(len(net.nodes), dtype=bool)
    s, w = np.nonzero(reach)
    return s, w


def arcs(problem: CompiledProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed arcs (tail, head) of the links and each arc's link index (`link_ends`)."""
    net = problem.network
    assert net is not None
    iu, ku = net.link_ends
    link = np.arange(len(iu))
    return np.r_[iu, ku], np.r_[ku, iu], np.r_[link, link]


def models_link_capacity(problem: CompiledProblem, limit: int = MAX_LINK_COLUMNS) -> bool:
    """Whether the exact engines get link-capacity rows: a network on which some plan
    could overload a link, with at most `limit` pair and flow variables."""
    net = problem.network
    if net is None or not net.may_overload or not len(problem.comm_pairs):
        return False
    v, links = len(net.nodes), len(net.link_ends[0])
    if v * (v - 1) // 2 * 2 * links > EXACT_VARIABLES:
        # The evaluator's routing would be heuristic for some plans: a plan the flow
        # rows accept could fail it (about 9 nodes and beyond).
        return False
    size = len(problem.comm_pairs) * len(ordered_pairs(problem)[0])
    return size + len(net.nodes) * 2 * len(net.link_ends[0]) <= limit


def node_columns(var_of: np.ndarray, problem: CompiledProblem, task: int, node: int) -> np.ndarray:
    """Assignment variables (index per `var_of`, -1 = none) putting `task` on `node`."""
    net = problem.network
    assert net is not None
    columns = var_of[net.agent_node == node, task]
    return columns[columns >= 0]
