"""The exact routing LP on small networks: it carries traffic the heuristic router calls
over bandwidth, and the evaluator then counts the plan within bandwidth (issue 15)."""

from __future__ import annotations

import numpy as np

from models import Problem, compile_problem, evaluate_plan
from models.routing_exact import route_exact
from models.topology_routing import route_within_bandwidth

# Triangle n0, n1, n2. n0 sends 8 to n1 and 8 to n2. The heuristic sends n0-n1 on its
# lowest-latency path n0-n2-n1 first (4 ms < 5 ms), which leaves n0-n2 3 units short;
# 5 direct on n0-n1 and 3 round by n2 carry everything.
_BANDWIDTH = {(0, 1): 10.0, (0, 2): 11.0, (1, 2): 8.0}
_LATENCY = {(0, 1): 5.0, (0, 2): 3.0, (1, 2): 1.0}


def _matrix(values: dict[tuple[int, int], float]) -> np.ndarray:
    out = np.zeros((3, 3))
    for (a, b), x in values.items():
        out[a, b] = out[b, a] = x
    return out


def test_the_lp_carries_what_the_heuristic_leaves_over() -> None:
    adj = _matrix(_BANDWIDTH) > 0
    bw, lat = _matrix(_BANDWIDTH), _matrix(_LATENCY)
    traffic = _matrix({(0, 1): 8.0, (0, 2): 8.0})
    assert not route_within_bandwidth(adj, lat, bw, traffic, scale_steps=0).fits(bw)
    exact = route_exact(adj, lat, bw, traffic)
    assert exact is not None and exact.fits(bw)
    assert abs(exact.loads[0, 1] - 5.0) < 1e-6
    assert abs(exact.loads[0, 2] - 11.0) < 1e-6 and abs(exact.loads[1, 2] - 3.0) < 1e-6
    # Every pair's pieces add up to its traffic, each on a path between its ends.
    for (s, t), pieces in exact.paths.items():
        assert abs(sum(a for _, a in pieces) - traffic[s, t]) < 1e-6
        assert all(path[0] == s and path[-1] == t for path, _ in pieces)


def test_no_routing_fits_gives_none() -> None:
    adj = _matrix(_BANDWIDTH) > 0
    traffic = _matrix({(0, 1): 15.0, (0, 2): 8.0})  # 23 out of n0, whose links carry 21
    assert route_exact(adj, _matrix(_LATENCY), _matrix(_BANDWIDTH), traffic) is None


def test_the_evaluator_counts_a_split_routing_as_within_bandwidth() -> None:
    links = [
        {"a": f"n{a}", "b": f"n{b}", "bandwidth": bw, "latency_ms": _LATENCY[(a, b)]}
        for (a, b), bw in _BANDWIDTH.items()
    ]
    problem = Problem.model_validate(
        {
            "name": "split",
            "agents": [{"id": f"A{k}", "node": f"n{k}"} for k in range(3)],
            "tasks": [{"id": t} for t in ("src", "one", "two")],
            "communication": [
                {"a": "src", "b": "one", "volume": 8},
                {"a": "src", "b": "two", "volume": 8},
            ],
            "topology": {"nodes": [{"id": f"n{k}"} for k in range(3)], "links": links},
        }
    )
    ev = evaluate_plan(compile_problem(problem), np.array([0, 1, 2]))
    assert ev.feasible, [v.message for v in ev.violations]
    assert ev.link_use is not None and ev.link_use.routing.method == "lp"
    assert ev.link_use.max_utilisation <= 1 + 1e-6
