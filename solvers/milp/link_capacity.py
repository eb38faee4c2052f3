"""Link bandwidth as MILP rows: the placement's traffic as a multi-commodity flow (issue 15).

Why a flow and not fixed shortest paths: the evaluator counts a plan within bandwidth
when *some* routing of its traffic fits (shortest paths, else around full links), so
rows that pin traffic to shortest paths would cut off plans the evaluator accepts and
the MILP's optimum would not be the best plan that fits. Splittable routing is an LP,
so with the placement it is an exact MILP; it is built only for small topologies
(`solvers.shared.link_flow.models_link_capacity`), beyond that the portfolio repairs
the MILP's plan.

Formulation, with X[t, s] = sum of x[a, t] over agents a on node s (an expression):
- q[p, s, w] >= X[t, s] + X[u, w] - 1 for each communicating pair p = (t, u) and ordered
  nodes s != w joined by some path: p's volume goes from s to w when t is on s and u on w
  (q only adds traffic, so it sits at that bound; continuous in [0, 1]).
- Commodities aggregated by source node s (exact for splittable flows): f[s, arc] >= 0,
  at node w: out - in = what s sends in all (w = s), or minus what s sends to w.
- Per link: the flow of every commodity, both directions, <= bandwidth.
Tasks on one node, unassigned or on an agent off the topology put nothing on a link, as
in `models.placement_network.node_traffic`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from models import CompiledProblem
from models.placement_network import link_use, node_traffic
from models.topology_routing import route_shortest
from solvers.shared.link_flow import arcs, models_link_capacity, node_columns, ordered_pairs

if TYPE_CHECKING:
    from solvers.milp.model import MilpModel

__all__ = ["add_link_capacity", "link_hint", "models_link_capacity"]


def add_link_capacity(model: MilpModel, problem: CompiledProblem) -> None:
    """Add the pair, flow columns and rows above to `model` (a `MilpModel`); records the
    columns in `model.link_columns` for `link_hint`."""
    net = problem.network
    assert net is not None
    v = len(net.nodes)
    iu, ku = net.link_ends
    tails, heads, link_of_arc = arcs(problem)
    # Per source node: a list of (column, coefficient) of what it sends to each node.
    sends: dict[tuple[int, int], list[tuple[int, float]]] = {}
    pair_columns: list[tuple[int, int, int, int]] = []  # (column, pair, s, w)
    for p, ((t, u), volume) in enumerate(
        zip(problem.comm_pairs.tolist(), problem.comm_volume.tolist(), strict=True)
    ):
        for s, w in zip(*ordered_pairs(problem), strict=True):
            at_s = node_columns(model.var_of, problem, t, int(s))
            at_w = node_columns(model.var_of, problem, u, int(w))
            if not len(at_s) or not len(at_w) or volume <= 0:
                continue
            q = model.add_column(f"q_{p}_{s}_{w}", 0.0, 1.0, False)
            pair_columns.append((q, p, int(s), int(w)))
            row = np.r_[q, at_s, at_w]
            coefs = np.r_[1.0, -np.ones(len(at_s) + len(at_w))]
            model.add_row(row, coefs, -1.0, np.inf, f"q_{p}_{s}_{w}")
            sends.setdefault((int(s), int(w)), []).append((q, float(volume)))
    sources = sorted({s for s, _ in sends})
    flow = {
        s: np.array([model.add_column(f"f_{s}_{a}", 0.0, np.inf, False) for a in range(len(tails))])
        for s in sources
    }
    for s in sources:
        for w in range(v):
            out, into = flow[s][tails == w], flow[s][heads == w]
            if w == s:
                supply = [item for (src, _), items in sends.items() if src == s for item in items]
                sign = -1.0  # out - in - (all s sends) = 0
            else:
                supply = sends.get((s, w), [])
                sign = 1.0  # out - in + (what s sends to w) = 0
            q_cols = np.array([c for c, _ in supply], dtype=np.int64)
            q_coefs = sign * np.array([vol for _, vol in supply])
            row = np.r_[out, into, q_cols]
            coefs = np.r_[np.ones(len(out)), -np.ones(len(into)), q_coefs]
            model.add_row(row, coefs, 0.0, 0.0, f"flow_{s}_{w}")
    if sources:
        for link in range(len(iu)):
            row = np.concatenate([flow[s][link_of_arc == link] for s in sources])
            bandwidth = float(net.bandwidth[iu[link], ku[link]])
            model.add_row(row, np.ones(len(row)), -np.inf, bandwidth, f"bw_{iu[link]}_{ku[link]}")
    model.link_columns = (pair_columns, flow, tails, heads)
    model.notes.append(
        f"link bandwidth modelled: {len(pair_columns)} pair and "
        f"{len(sources) * len(tails)} flow columns (multi-commodity flow by source node)"
    )


def link_hint(
    model: MilpModel, problem: CompiledProblem, assignment: np.ndarray, values: np.ndarray
) -> None:
    """Fill the pair and flow columns of `values` for a plan: pairs from the placement,
    flows from the evaluator's routing of its traffic (the hint is infeasible, and the
    backend drops it, when that routing overloads a link)."""
    net = problem.network
    assert net is not None and model.link_columns is not None
    pair_columns, flow, tails, heads = model.link_columns
    node = np.where(assignment >= 0, net.agent_node[np.maximum(assignment, 0)], -1)
    demand: dict[tuple[int, int], float] = {}
    for q, p, s, w in pair_columns:
        t, u = problem.comm_pairs[p]
        if node[t] == s and node[u] == w:
            values[q] = 1.0
            demand[(s, w)] = demand.get((s, w), 0.0) + float(problem.comm_volume[p])
    traffic = node_traffic(net, problem.comm_pairs, problem.comm_volume, assignment)
    use = link_use(net, traffic)
    if use is None:
        return
    routing = use.routing
    if routing.method == "shortest-path":  # the evaluator's fast path lists no paths
        routing = route_shortest(net.adjacency, net.latency, traffic)
    arc = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(tails, heads, strict=True))}
    for (s, w), amount in demand.items():
        lo, hi = min(s, w), max(s, w)
        pieces = routing.paths.get((lo, hi)) or []
        total = sum(share for _, share in pieces)
        for path, share in pieces:
            hops = path if s == lo else path[::-1]
            for a, b in pairwise(hops):
                values[flow[s][arc[(a, b)]]] += amount * share / max(total, 1e-12)
