"""The topology optimisation job: candidates, local search, the exact MILP on small
instances, then a decision to apply the new topology only if it is clearly better.

Bandwidth is a limit: the proposed design carries its traffic with every link within
bandwidth (routed as a multi-commodity flow), or the result says that no design within
the constraints was found to (proven by the MILP on small instances) and by how much the
least congested one falls short.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from models.errors import InputError
from models.schema import Link, Topology
from models.topology_graph import graph_to_topology
from models.topology_metrics import TopologyMetrics, topology_metrics
from models.topology_request import TopologyRequest
from models.topology_routing import RoutingSummary
from solvers.topology.candidates import Candidate, candidate_designs
from solvers.topology.local_search import improve
from solvers.topology.milp_design import MAX_MILP_NODES, design_milp
from solvers.topology.space import DesignSpace, build_space

__all__ = [
    "AUTO_MILP_NODES",
    "BandwidthShortfall",
    "CandidateScore",
    "MilpSummary",
    "TopologyResult",
    "optimize_topology",
]

#: method="auto" also runs the MILP up to this many nodes (it stays fast there).
AUTO_MILP_NODES = 12


class CandidateScore(BaseModel):
    """One starting design and how it scored."""

    name: str
    objective: float | None = Field(description="None when disconnected.")
    feasible: bool


class MilpSummary(BaseModel):
    """The exact model's answer, next to the heuristic's."""

    objective: float | None
    bound: float | None
    optimal: bool
    status: str
    heuristic_gap: float | None = Field(description="(heuristic - milp) / milp; >= 0 if exact.")


class BandwidthShortfall(BaseModel):
    """No design within the constraints was found that carries the traffic: how far off."""

    congestion: float = Field(
        description="Busiest link's routed traffic / bandwidth in the least congested design."
    )
    carried_fraction: float = Field(
        description="Share of every pair's traffic that design carries at once (1/congestion)."
    )
    proven: bool = Field(
        description="The exact MILP proved no design within the constraints does better."
    )
    topology: Topology = Field(description="The least congested design found.")


class TopologyResult(BaseModel):
    """The proposed topology, what changes, metrics before/after and the decision."""

    name: str
    status: Literal["optimal", "feasible", "infeasible"]
    method: str
    topology: Topology = Field(description="The proposed topology (the current one if none).")
    links_to_add: list[Link]
    links_to_remove: list[Link]
    objective_before: float | None = Field(description="None when the current one is disconnected.")
    objective_after: float | None
    improvement: float | None = Field(description="Fractional objective drop.")
    threshold: float
    applied: bool
    reason: str
    current_violations: list[str]
    before: TopologyMetrics
    after: TopologyMetrics
    candidates: list[CandidateScore]
    start: str = Field(description="The candidate local search started from.")
    search_moves: int
    milp: MilpSummary | None = None
    routing_before: RoutingSummary | None = Field(
        default=None, description="The current design routed within bandwidth (None: no traffic)."
    )
    routing_after: RoutingSummary | None = Field(
        default=None, description="The proposed design routed within bandwidth."
    )
    bandwidth_shortfall: BandwidthShortfall | None = None
    elapsed_s: float


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _links(space: DesignSpace, adj: np.ndarray) -> list[Link]:
    out = []
    for i, k in zip(*np.nonzero(np.triu(adj, 1)), strict=True):
        out.append(
            Link(
                a=space.nodes[i],
                b=space.nodes[k],
                latency_ms=float(space.latency[i, k]),
                bandwidth=float(space.bandwidth[i, k]),
                cost=float(space.cost[i, k]),
            )
        )
    return out


def _decide(
    before: float, after: float, threshold: float, current_violations: list[str]
) -> tuple[bool, float | None, str]:
    if current_violations:
        return (
            True,
            None,
            "the current topology breaks constraints: " + "; ".join(current_violations),
        )
    if not np.isfinite(before) or before <= 0:
        gain = None if not np.isfinite(before) else 0.0
        if after < before:
            return True, gain, "the current topology is disconnected; the new one is connected"
        return False, gain, "the current topology already has objective 0; nothing to gain"
    gain = (before - after) / before
    if gain >= threshold:
        return True, gain, f"objective drops by {gain:.1%}, at least the threshold {threshold:.0%}"
    return (
        False,
        gain,
        f"objective drops only {gain:.1%}, below the threshold {threshold:.0%}; "
        "keeping the current topology (lower --threshold to apply it)",
    )


@dataclass
class _Design:
    """The design a job proposes so far, and what the exact model said about it."""

    adj: np.ndarray
    objective: float
    method: str = "none"
    start: str = "none"
    moves: int = 0
    optimal: bool = False
    # The exact model's least congested design when none fits, and whether it proved so.
    least_congested: np.ndarray | None = None
    proven: bool = False
    milp: MilpSummary | None = None


def optimize_topology(request: TopologyRequest) -> TopologyResult:
    """Design a topology for the request's traffic under its constraints.

    Raises InputError when the topology has no nodes. Cost: dominated by local search
    (bounded by request.time_limit_s) and, for method milp/auto, the MILP.
    """
    started = time.perf_counter()
    if not request.topology.nodes:
        raise InputError(
            "the topology has no nodes; add some", source=request.name, field="topology.nodes"
        )
    space = build_space(request)
    candidates = candidate_designs(space, request.seed)
    design = _Design(space.current.copy(), space.objective(space.current))
    best = _start(space, candidates)
    if best is not None and request.method in ("heuristic", "auto"):
        # Scoring the candidates (routing each) counts against the time limit too.
        left = request.time_limit_s - (time.perf_counter() - started)
        budget = max(0.1, left / (2 if request.method == "auto" else 1))
        outcome = improve(space, best.adj, time_limit_s=budget, seed=request.seed)
        design.adj, design.objective, design.moves = outcome.adj, outcome.objective, outcome.moves
        design.method, design.start = "heuristic", best.name
    run_milp = request.method == "milp" or (request.method == "auto" and space.n <= AUTO_MILP_NODES)
    if run_milp:
        _exact_stage(
            space, design, max(1.0, request.time_limit_s - (time.perf_counter() - started))
        )
    # The final word on bandwidth: exact routing where the LP is affordable.
    space.refine()
    return _result(request, space, design, candidates, started)


def _exact_stage(space: DesignSpace, design: _Design, time_limit_s: float) -> None:
    """Run the design MILP (small topologies) and keep its design when it is better."""
    if space.n > MAX_MILP_NODES:
        design.milp = MilpSummary(
            objective=None,
            bound=None,
            optimal=False,
            status=f"skipped: over {MAX_MILP_NODES} nodes",
            heuristic_gap=None,
        )
        return
    exact = design_milp(space, time_limit_s=time_limit_s)
    feasible_heuristic = design.method == "heuristic" and space.feasible(design.adj)
    heuristic_obj = design.objective if feasible_heuristic else float("inf")
    gap = (
        (heuristic_obj - exact.objective) / exact.objective
        if exact.adj is not None and exact.objective > 0 and np.isfinite(heuristic_obj)
        else None
    )
    design.milp = MilpSummary(
        objective=_finite(exact.objective),
        bound=exact.bound,
        optimal=exact.optimal,
        status=exact.status,
        heuristic_gap=gap,
    )
    if exact.congestion is not None:
        design.least_congested = exact.adj
        design.proven = exact.status.endswith("kOptimal")
    elif exact.adj is not None and (exact.objective <= design.objective or not feasible_heuristic):
        design.adj, design.objective, design.optimal = exact.adj, exact.objective, exact.optimal
        design.method = "milp" if design.method == "none" else "heuristic+milp"


def _result(
    request: TopologyRequest,
    space: DesignSpace,
    design: _Design,
    candidates: list[Candidate],
    started: float,
) -> TopologyResult:
    """The decision on the refined space: apply the design, keep the current one, or say
    why no design fits (with the least congested one's shortfall)."""
    before_obj, current_violations = space.objective(space.current), space.violations(space.current)
    adj = design.adj
    obj = space.objective(adj) if design.method != "none" else before_obj
    found = design.method != "none" and space.feasible(adj)
    shortfall: BandwidthShortfall | None = None
    if found:
        applied, gain, reason = _decide(before_obj, obj, request.threshold, current_violations)
    else:
        least_congested = design.least_congested
        if least_congested is None and design.method != "none":
            least_congested = adj if space.structurally_feasible(adj) else None
        if least_congested is not None:
            shortfall = _shortfall(space, least_congested, design.proven)
        adj, obj = space.current.copy(), before_obj
        applied, gain = False, None
        reason = "no design meets the constraints: " + (
            _shortfall_sentence(shortfall)
            if shortfall is not None
            else _why_infeasible(space, candidates)
        )
    traffic = space.traffic
    return TopologyResult(
        name=request.name,
        status="optimal" if found and design.optimal else "feasible" if found else "infeasible",
        method=design.method,
        topology=graph_to_topology(space.graph_of(adj)),
        links_to_add=_links(space, adj & ~space.current),
        links_to_remove=_links(space, space.current & ~adj),
        objective_before=_finite(before_obj),
        objective_after=_finite(obj),
        improvement=gain,
        threshold=request.threshold,
        applied=applied,
        reason=reason,
        current_violations=current_violations,
        before=topology_metrics(space.graph_of(space.current), traffic),
        after=topology_metrics(space.graph_of(adj), traffic),
        candidates=[
            CandidateScore(name=c.name, objective=_finite(c.objective), feasible=c.feasible)
            for c in candidates
        ],
        start=design.start,
        search_moves=design.moves,
        milp=design.milp,
        routing_before=routing_summary(space, space.current),
        routing_after=routing_summary(space, adj),
        bandwidth_shortfall=shortfall,
        elapsed_s=time.perf_counter() - started,
    )


def _why_infeasible(space: DesignSpace, candidates: list) -> str:
    """The closest candidate's broken constraints, with what to relax."""
    if not candidates:
        return "no candidate could be built"
    fewest = min(candidates, key=lambda c: len(space.violations(c.adj)))
    return (
        "; ".join(space.violations(fewest.adj))
        + " (relax max_degree, link_budget, min_connectivity or max_diameter_ms)"
    )


def _start(space: DesignSpace, candidates: list) -> Candidate | None:
    """The best feasible candidate; else the least congested one meeting every other
    constraint (local search then routes its way towards a design that fits)."""
    if candidates and candidates[0].feasible:
        return candidates[0]
    usable = [c for c in candidates if space.structurally_feasible(c.adj)]
    return min(usable, key=lambda c: space.search_objective(c.adj), default=None)


def routing_summary(space: DesignSpace, adj: np.ndarray) -> RoutingSummary | None:
    """How `adj` carries the space's traffic within bandwidth (exact routing where the LP
    is affordable); None without traffic."""
    space.refine()
    if not space.traffic.any() or not np.isfinite(space.latency_objective(adj)):
        return None
    routing = space.routing(adj)
    congestion = space.congestion(adj)
    return RoutingSummary(
        method=routing.method,
        fits=routing.fits(space.bandwidth),
        max_utilisation=routing.max_utilisation(space.bandwidth),
        overloaded_links=len(routing.overloaded(space.bandwidth)),
        traffic_latency=routing.traffic_latency,
        min_congestion=routing.min_congestion,
        carried_fraction=min(1.0, 1.0 / congestion) if congestion > 0 else 1.0,
    )


def _shortfall(space: DesignSpace, adj: np.ndarray, proven: bool) -> BandwidthShortfall:
    congestion = space.congestion(adj)
    return BandwidthShortfall(
        congestion=congestion,
        carried_fraction=min(1.0, 1.0 / congestion),
        proven=proven,
        topology=graph_to_topology(space.graph_of(adj)),
    )


def _shortfall_sentence(shortfall: BandwidthShortfall) -> str:
    which = (
        "no design within the constraints can carry the traffic (proven by the MILP)"
        if shortfall.proven
        else "no design found within the constraints carries the traffic"
    )
    return (
        f"{which}; the least congested needs {shortfall.congestion:.0%} of its busiest "
        f"link's bandwidth, so it falls short by {shortfall.congestion - 1:.0%} "
        f"(it carries {shortfall.carried_fraction:.0%} of the traffic at once); "
        "raise link_budget or max_degree, or add bandwidth"
    )
