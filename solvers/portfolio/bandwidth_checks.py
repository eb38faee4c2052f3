"""Link bandwidth in the portfolio's verification: repair, link loads, and the shortfall.

Most engines place communicating tasks without modelling link bandwidth, so a plan may
be cheapest and still overload a link; `evaluate_plan` flags that ("bandwidth"). Such a
plan, broken only there, gets the penalty-guided repair before it is judged, so the plan
choice sees the solver's plan made to fit when moving tasks can make it fit. A plan
that still overloads is never chosen; when none fits, the diagnosis says by how much
the best attempt falls short. A workflow schedule an engine timed on lowest-latency
delays is re-timed on its plan's routed paths when it fails on them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from models import CompiledProblem, Evaluation, evaluate_plan
from models.evaluation import with_plan_routes
from models.placement_network import LinkUse
from models.schedule_check import derive_schedule
from models.topology_metrics import LinkLoad
from models.topology_routing import OVER_TOLERANCE
from solvers.base import SolveResult, SolveStatus
from solvers.shared.bandwidth_repair import repair_bandwidth
from solvers.shared.link_flow import CPSAT_LINK_COLUMNS, MAX_LINK_COLUMNS, models_link_capacity

__all__ = [
    "BANDWIDTH_AWARE",
    "LINK_ROWS",
    "bandwidth_diagnosis",
    "engine_view",
    "least_congestion",
    "link_loads",
    "repair_overload",
]

#: Engines that handle link bandwidth themselves: the heuristic repairs its plan, the
#: workflow engine times transfers on the routed paths. The others get the problem
#: without its network (a relaxation: their bounds stay valid) and the portfolio
#: repairs their plans.
BANDWIDTH_AWARE = frozenset({"greedy", "heft"})
#: Engines with link-capacity rows (a multi-commodity flow) and the size up to which they
#: get them and keep the network (`models_link_capacity`); beyond, treated as the others. The
#: workflow NSGA-II keeps it too: it repairs its front members (`pareto_bandwidth`).
LINK_ROWS = {"milp": MAX_LINK_COLUMNS, "cpsat": CPSAT_LINK_COLUMNS}

#: Seconds the repair of one solver's plan may take after the solvers stop.
REPAIR_S = 0.5


def engine_view(name: str, compiled: CompiledProblem) -> CompiledProblem:
    """The problem as engine `name` receives it: without the network unless it is aware."""
    if compiled.network is None or name in BANDWIDTH_AWARE:
        return compiled
    if name in LINK_ROWS and models_link_capacity(compiled, LINK_ROWS[name]):
        return compiled
    if name == "nsga2" and compiled.workflow is not None:
        return compiled  # the workflow NSGA-II repairs and re-times its front members
    return replace(compiled, network=None)


def only_bandwidth(ev: Evaluation) -> bool:
    """Whether the plan breaks link bandwidth and nothing else."""
    return bool(ev.violations) and all(v.kind == "bandwidth" for v in ev.violations)


def repair_overload(compiled: CompiledProblem, result: SolveResult, ev: Evaluation) -> Evaluation:
    """The evaluation of `result`'s plan, repaired in place (assignment, start, a note)
    when the plan breaks nothing but link bandwidth and the repair makes it fit."""
    if compiled.network is None or result.assignment is None or ev.feasible:
        return ev
    if result.start is not None and compiled.workflow is not None:
        ev = _retimed(compiled, result, ev)
    if not only_bandwidth(ev):
        return ev
    # The others were given no network; an aware engine's own repair may have run
    # out of time: both get one more try here.
    repair = repair_bandwidth(compiled, result.assignment, time_limit_s=REPAIR_S)
    if not repair.fits:
        result.notes.append(repair.note())
        if result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            # Its claim was about the problem without bandwidth; it has no plan for this one.
            result.status = SolveStatus.NO_SOLUTION
        return ev
    repaired = evaluate_plan(compiled, repair.assignment, _schedule(compiled, repair.assignment))
    if not repaired.feasible:
        return ev
    result.assignment = repair.assignment.astype(np.int32)
    result.start = _schedule(compiled, repair.assignment)
    result.notes.append(
        f"{repair.note()} (score {ev.score:.6g} -> {repaired.score:.6g}); the solver's own "
        "plan overloaded a link"
    )
    return repaired


def _schedule(compiled: CompiledProblem, assignment: np.ndarray) -> np.ndarray | None:
    """A workflow's start times on the transfer delays of the plan's routed paths."""
    if compiled.workflow is None:
        return None
    return derive_schedule(with_plan_routes(compiled, assignment), assignment)


def _retimed(compiled: CompiledProblem, result: SolveResult, ev: Evaluation) -> Evaluation:
    """An engine given no network timed transfers on lowest-latency paths; when its
    schedule fails on the routed paths' delays, the plan is re-timed on them."""
    assert result.assignment is not None
    start = _schedule(compiled, result.assignment)
    retimed = evaluate_plan(compiled, result.assignment, start)
    if len(retimed.violations) >= len(ev.violations):
        return ev
    result.start = start
    result.notes.append("schedule re-timed on the transfer delays of its routed paths")
    return retimed


def link_loads(ev: Evaluation) -> list[LinkLoad]:
    """Every link the plan's communication crosses, busiest first (empty without any)."""
    if ev.link_use is None:
        return []
    return [
        LinkLoad(a=a, b=b, traffic=traffic, bandwidth=bw, utilisation=traffic / bw)
        for a, b, traffic, bw in ev.link_use.links()
    ]


def bandwidth_diagnosis(evaluations: dict[str, Evaluation]) -> list[str]:
    """When no plan fits: the least congested attempt and by how much it falls short."""
    over = {
        name: ev.link_use
        for name, ev in evaluations.items()
        if only_bandwidth(ev) and ev.link_use is not None
    }
    if not over:
        return []
    name, use = min(over.items(), key=lambda item: item[1].max_utilisation)
    congestion, how = least_congestion(use)
    if congestion <= 1 + OVER_TOLERANCE:
        short = "the exact LP routes it within bandwidth, which the evaluator's router missed"
    else:
        short = (
            f"routed as well as possible ({how}) its busiest link needs {congestion:.1%} of "
            f"its bandwidth: the links carry {1 / congestion:.1%} of its traffic at once"
        )
    return [
        f"no plan found keeps every link within bandwidth; the least congested is {name}'s "
        f"(repaired where it could be): {use.shortfall_sentence()}; {short}"
    ]


def least_congestion(use: LinkUse) -> tuple[float, str]:
    """The least max utilisation any routing of the plan's traffic reaches, and how it was
    found: the exact LP on small topologies, the heuristic's bisection beyond."""
    # Imported here: solvers.topology brings networkx, scipy and PuLP (~0.5 s), which a
    # request without a network never needs (the CLI's start counts against its limit).
    from solvers.topology.flow_lp import MAX_LP_VARIABLES, route_lp

    net = use.network
    n_pairs = int(np.count_nonzero(np.triu(use.traffic, 1)))
    if n_pairs * 2 * int(np.count_nonzero(np.triu(net.adjacency, 1))) <= MAX_LP_VARIABLES:
        routed = route_lp(net.adjacency, net.latency, net.bandwidth, use.traffic, time_limit_s=2.0)
        if routed is not None:
            exact = routed.min_congestion or routed.max_utilisation(net.bandwidth)
            return exact, "exact LP"
    return use.least_congestion(), "heuristic, an upper bound"
