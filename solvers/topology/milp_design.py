"""Exact network design for small instances (up to ~15 nodes): a multi-commodity flow MILP
solved by HiGHS through PuLP, with connectivity and diameter cuts added lazily.

Each pair's traffic is a splittable flow and a link carries at most its bandwidth, so the
design's objective is that of its least-latency routing within bandwidth (what
`flow_lp.route_lp` computes for a fixed design). When no design within the constraints
can carry the traffic (the model is infeasible), a second model finds the design of least
congestion: how far the best design falls short.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pulp

from models.topology_routing import route_shortest
from solvers.topology.space import DesignSpace

__all__ = ["MAX_MILP_NODES", "MilpDesign", "design_milp"]

MAX_MILP_NODES = 15
_MAX_CUT_ROUNDS = 50


@dataclass
class MilpDesign:
    """What the MILP has: a design (or None), its objective, proven bound, why it stopped."""

    adj: np.ndarray | None
    objective: float
    bound: float | None
    optimal: bool
    status: str
    cut_rounds: int
    congestion: float | None = None  # set when no design fits: the least max utilisation


_banner_silenced = False


def _silence_highs_banner() -> None:
    """HiGHS prints a banner to fd 1 when the first Highs object is built, whatever the
    options; building that first one with fd 1 on /dev/null keeps `--json` output clean."""
    global _banner_silenced
    if _banner_silenced:
        return
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_silenced = True


def _commodities(space: DesignSpace) -> list[tuple[int, int]]:
    """One commodity per node pair that exchanges traffic."""
    return [(s, t) for s, t in itertools.combinations(range(space.n), 2) if space.traffic[s, t] > 0]


def _build(
    space: DesignSpace,
    flows: list[tuple[int, int]],
    diameter_pairs: list[tuple[int, int]],
    cuts: list[list[tuple[int, int]]],
    congestion: bool = False,
    capacity: bool = True,
) -> tuple[pulp.LpProblem, dict[tuple[int, int], pulp.LpVariable]]:
    n = space.n
    prob = pulp.LpProblem("topology_design", pulp.LpMinimize)
    pairs = list(itertools.combinations(range(n), 2))
    x = {e: prob.add_variable(f"x_{e[0]}_{e[1]}", 0, 1, pulp.LpBinary) for e in pairs}
    arcs = [(i, k) for i, k in pairs] + [(k, i) for i, k in pairs]
    objective = []

    load: dict[tuple[int, int], list] = {e: [] for e in pairs}

    def route(s: int, t: int, tag: str) -> pulp.LpAffineExpression:
        """Unit flow s -> t on built links; returns its path latency (and notes the load)."""
        f = {a: prob.add_variable(f"f{tag}_{s}_{t}_{a[0]}_{a[1]}", lowBound=0) for a in arcs}
        for v in range(n):
            out_flow = pulp.lpSum(f[(v, k)] for k in range(n) if k != v)
            in_flow = pulp.lpSum(f[(k, v)] for k in range(n) if k != v)
            prob.addConstraint(out_flow - in_flow == (1 if v == s else -1 if v == t else 0))
        # Flow only on built links (the disaggregated form: a tight LP relaxation).
        for i, k in arcs:
            prob.addConstraint(f[(i, k)] <= x[(min(i, k), max(i, k))])
            if tag == "c":
                load[(min(i, k), max(i, k))].append(float(space.traffic[s, t]) * f[(i, k)])
        return pulp.lpSum(space.latency[a] * f[a] for a in arcs)

    for s, t in flows:
        objective.append(space.traffic[s, t] * route(s, t, "c"))
    # Diameter: a pair that was too far apart must now have a short enough path.
    for s, t in diameter_pairs:
        prob += route(s, t, "d") <= float(space.max_diameter_ms or 0.0)
    objective.append(space.cost_weight * pulp.lpSum(space.cost[e] * x[e] for e in pairs))
    # Bandwidth: both directions of a built link share it (or U times it, minimising U).
    worst = prob.add_variable("congestion", lowBound=0) if congestion else None
    for e in pairs if capacity or congestion else []:
        if load[e]:
            limit = float(space.bandwidth[e]) * (worst if worst is not None else x[e])
            prob.addConstraint(pulp.lpSum(load[e]) <= limit)
    if worst is not None:
        objective.append(space.penalty * worst)
    prob += pulp.lpSum(objective)
    # Degree: at most max_degree links per node.
    if space.max_degree is not None:
        for v in range(n):
            prob += pulp.lpSum(x[e] for e in pairs if v in e) <= space.max_degree
    # Budget: total link cost within link_budget.
    if space.link_budget is not None:
        prob += pulp.lpSum(space.cost[e] * x[e] for e in pairs) <= space.link_budget
    # Connectivity: every node keeps min_connectivity links (necessary, and cheap).
    for v in range(n):
        prob += pulp.lpSum(x[e] for e in pairs if v in e) >= min(space.min_connectivity, n - 1)
    # Lazy cuts: some link must cross each separation found so far.
    for crossing in cuts:
        prob += pulp.lpSum(x[e] for e in crossing) >= 1
    return prob, x


def _separation(space: DesignSpace, adj: np.ndarray) -> list[tuple[int, int]] | None:
    """Pairs that would rejoin the design across its smallest too-small node cut, if any."""
    graph = nx.from_numpy_array(adj.astype(int))
    k = space.min_connectivity
    cut: set[int] = set()
    if nx.is_connected(graph):
        if k < 2 or space.n <= k or nx.node_connectivity(graph) >= k:
            return None
        cut = set(nx.minimum_node_cut(graph))
    rest = graph.subgraph([v for v in graph if v not in cut])
    parts = list(nx.connected_components(rest))
    side = min(parts, key=len)
    others = [v for v in rest if v not in side]
    return [(min(a, b), max(a, b)) for a in side for b in others]


def design_milp(
    space: DesignSpace, *, time_limit_s: float = 30.0, rel_gap: float = 1e-6
) -> MilpDesign:
    """Solve the network-design MILP; repeats with new cuts until the design is feasible.

    If no design carries the traffic within bandwidth (proven: the model is infeasible
    with every link within bandwidth but solvable without), returns the least congested
    design with `congestion` set and status "no design fits the bandwidth".
    """
    started = time.perf_counter()
    if space.bandwidth_binds:
        # Bandwidth ignored is a relaxation: if its optimum happens to fit, it is optimal
        # with bandwidth too, and this model solves much faster. Its bound stays valid.
        relaxed = _design(space, time_limit_s, rel_gap, congestion=False, capacity=False)
        if relaxed.adj is None or (relaxed.optimal and _fits_unrouted(space, relaxed.adj)):
            return relaxed
        left = time_limit_s - (time.perf_counter() - started)
        design = _design(space, left, rel_gap, congestion=False, capacity=True)
        if relaxed.bound is not None and (design.bound or -np.inf) < relaxed.bound:
            design.bound = relaxed.bound
    else:
        design = _design(space, time_limit_s, rel_gap, congestion=False, capacity=False)
    if design.adj is not None or "Infeasible" not in design.status or not space.traffic.any():
        return design
    left = time_limit_s - (time.perf_counter() - started)
    least = _design(space, left, rel_gap, congestion=True, capacity=True)
    if least.adj is None:
        return design
    least.congestion = space.congestion(least.adj)
    least.bound = None  # that model's bound is on congestion (penalised), not the objective
    least.status = "no design fits the bandwidth; least congestion " + least.status
    least.optimal = False
    return least


def _fits_unrouted(space: DesignSpace, adj: np.ndarray) -> bool:
    """Every pair on its shortest path stays within bandwidth: the design's objective
    is then the same with bandwidth as without."""
    return route_shortest(adj, space.latency, space.traffic, paths=False).fits(space.bandwidth)


def _design(
    space: DesignSpace, time_limit_s: float, rel_gap: float, congestion: bool, capacity: bool
) -> MilpDesign:
    """One cut loop of the MILP (bandwidth ignored, as a limit, or min congestion)."""
    if space.n > MAX_MILP_NODES:
        return MilpDesign(
            None, float("inf"), None, False, f"skipped: over {MAX_MILP_NODES} nodes", 0
        )
    _silence_highs_banner()
    deadline = time.perf_counter() + time_limit_s
    flows = _commodities(space)
    diameter_pairs: list[tuple[int, int]] = []
    cuts: list[list[tuple[int, int]]] = []
    for rounds in range(1, _MAX_CUT_ROUNDS + 1):
        left = deadline - time.perf_counter()
        if left <= 0:
            return MilpDesign(None, float("inf"), None, False, "time limit", rounds)
        prob, x = _build(space, flows, diameter_pairs, cuts, congestion, capacity)
        solver = pulp.HiGHS(msg=False, timeLimit=left, gapRel=rel_gap, threads=1)
        prob.solve(solver)
        highs = prob.solverModel
        status = str(highs.getModelStatus()).split(".")[-1]
        adj = np.zeros((space.n, space.n), dtype=bool)
        has_plan = all(v.varValue is not None for v in x.values())
        if "Infeasible" in status or not has_plan:
            return MilpDesign(None, float("inf"), None, False, status, rounds)
        for (i, k), var in x.items():
            adj[i, k] = adj[k, i] = (var.varValue or 0.0) > 0.5
        bound = float(highs.getInfo().mip_dual_bound)
        separation = _separation(space, adj)
        if separation is not None:
            cuts.append(separation)
            continue
        dist = space.shortest(adj)
        if space.max_diameter_ms is not None and dist.max() > space.max_diameter_ms + 1e-9:
            s, t = np.unravel_index(int(np.argmax(dist)), dist.shape)
            diameter_pairs.append((int(min(s, t)), int(max(s, t))))
            continue
        optimal = status == "kOptimal"
        # Re-score with our own objective; the backend's word is not trusted blindly.
        return MilpDesign(adj, space.objective(adj, dist), bound, optimal, status, rounds)
    return MilpDesign(None, float("inf"), None, False, "cut rounds exhausted", _MAX_CUT_ROUNDS)
