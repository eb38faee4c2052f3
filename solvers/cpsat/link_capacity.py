"""Link bandwidth as CP-SAT constraints: the MILP's multi-commodity flow in integers (issue 15).

The same rows as `solvers.milp.link_capacity` (see `solvers.shared.link_flow`): a pair
literal q[p, s, w] >= X[t, s] + X[u, w] - 1, integer flows per source node and arc,
flow balance per node, both directions of a link within its bandwidth. CP-SAT needs
integers: volumes and bandwidths are scaled by a power of ten making them integral
(volumes rounded up and bandwidths down when none does, so the rows stay on the safe
side), times `_SPLIT` so a volume may split into sixtieths (halves to sixths exactly);
a split finer than that is not found, so CP-SAT may, rarely, miss a plan the evaluator's
exact routing fits, never the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models import CompiledProblem
from solvers.cpsat.int_scaling import IntScale, choose_scale, scale_down, scale_up
from solvers.shared.link_flow import arcs, node_columns, ordered_pairs

if TYPE_CHECKING:
    from solvers.cpsat.model import CpSatModel

__all__ = ["add_link_capacity"]

#: Each scaled unit splits this many ways (lcm of 1..6).
_SPLIT = 60
#: Scaled bandwidths stay below this (CP-SAT's sums stay far from int64 overflow).
_MAX_SCALED = 1e9


def _scale(problem: CompiledProblem) -> IntScale:
    net = problem.network
    assert net is not None
    iu, ku = net.link_ends
    values = np.r_[problem.comm_volume, net.bandwidth[iu, ku]]
    base = choose_scale(values, max_scaled=_MAX_SCALED / _SPLIT)
    return IntScale(base.factor * _SPLIT, base.exact)


def add_link_capacity(model: CpSatModel, problem: CompiledProblem, lookup: np.ndarray) -> None:
    """Add pair literals, integer flows and link rows; `lookup[agent, task]` is the x
    variable's index (-1 where none)."""
    net = problem.network
    assert net is not None
    scale = _scale(problem)
    volume = scale_up(problem.comm_volume, scale)
    iu, ku = net.link_ends
    bandwidth = scale_down(net.bandwidth[iu, ku], scale)
    tails, heads, link_of_arc = arcs(problem)
    cp, var = model.model, model.variables
    sends: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (q index, scaled volume)
    for p, (t, u) in enumerate(problem.comm_pairs.tolist()):
        for s, w in zip(*ordered_pairs(problem), strict=True):
            at_s = node_columns(lookup, problem, t, int(s))
            at_w = node_columns(lookup, problem, u, int(w))
            if not len(at_s) or not len(at_w) or volume[p] <= 0:
                continue
            q = model.new_var(0, 1, f"q{p}_{s}_{w}")
            cp.add(var[q] >= sum(var[k] for k in at_s) + sum(var[k] for k in at_w) - 1)
            sends.setdefault((int(s), int(w)), []).append((q, int(volume[p])))
    sources = sorted({s for s, _ in sends})
    cap_of_arc = bandwidth[link_of_arc]
    flow = {
        s: [model.new_var(0, int(cap_of_arc[a]), f"f{s}_{a}") for a in range(len(tails))]
        for s in sources
    }
    for s in sources:
        for w in range(len(net.nodes)):
            out = sum(var[flow[s][a]] for a in np.flatnonzero(tails == w))
            into = sum(var[flow[s][a]] for a in np.flatnonzero(heads == w))
            if w == s:
                sent = [item for (src, _), items in sends.items() if src == s for item in items]
                cp.add(out - into == sum(vol * var[q] for q, vol in sent))
            else:
                got = sends.get((s, w), [])
                cp.add(into - out == sum(vol * var[q] for q, vol in got))
    for link in range(len(iu)) if sources else ():
        guard = model.guard(
            f"link {net.nodes[iu[link]]}-{net.nodes[ku[link]]}'s bandwidth "
            f"{net.bandwidth[iu[link], ku[link]]:g}"
        )
        on_link = [var[flow[s][a]] for s in sources for a in np.flatnonzero(link_of_arc == link)]
        cp.add(sum(on_link) <= int(bandwidth[link])).only_enforce_if(guard)
    model.notes.append(
        f"link bandwidth modelled: {sum(len(v) for v in sends.values())} pair literals and "
        f"{len(sources) * len(tails)} integer flows (units of 1/{scale.factor:g})"
    )
