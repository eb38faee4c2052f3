"""Bandwidth is a limit: routed designs never load a link past its bandwidth, the MILP is exact
against brute force with the LP router, a budget too small is reported with its shortfall,
and workflow transfers follow the routed paths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.topology_facade import routed_paths
from models import Problem, compile_problem
from models.schema import Topology, TopologyNode
from models.topology_request import NewLinkModel, NodeTraffic, TopologyConstraints, TopologyRequest
from models.topology_routing import (
    OVER_TOLERANCE,
    main_paths,
    route_shortest,
    route_within_bandwidth,
)
from models.workflow import compile_workflow
from solvers.topology import build_space, optimize_topology
from solvers.topology.flow_lp import route_design, route_lp


def _request(
    n: int, pairs: dict[tuple[int, int], float], *, method: str, **constraints: object
) -> TopologyRequest:
    """n nodes, no links yet; every new link: latency 1 ms, cost 1, bandwidth 100."""
    return TopologyRequest(
        topology=Topology(nodes=[TopologyNode(id=f"n{i}") for i in range(n)], links=[]),
        traffic=[NodeTraffic(a=f"n{a}", b=f"n{b}", volume=v) for (a, b), v in pairs.items()],
        constraints=TopologyConstraints.model_validate(constraints),
        new_links=NewLinkModel(base_latency_ms=1.0, link_cost_per_unit=1.0, bandwidth=100.0),
        method=method,  # type: ignore[arg-type]
        time_limit_s=2.0,
    )


def _designs(n: int) -> list[np.ndarray]:
    pairs = list(itertools.combinations(range(n), 2))
    out = []
    for mask in range(1, 1 << len(pairs)):
        adj = np.zeros((n, n), dtype=bool)
        for p, (i, k) in enumerate(pairs):
            if mask >> p & 1:
                adj[i, k] = adj[k, i] = True
        out.append(adj)
    return out


def _adjacency(request: TopologyRequest, topology: Topology) -> np.ndarray:
    index = {node.id: i for i, node in enumerate(request.topology.nodes)}
    n = len(index)
    adj = np.zeros((n, n), dtype=bool)
    for link in topology.links:
        adj[index[link.a], index[link.b]] = adj[index[link.b], index[link.a]] = True
    return adj


HEAVY = {(0, 1): 150.0, (2, 3): 10.0}  # n0-n1 needs more than one 100-wide link


def test_latency_best_design_overloads_and_the_chosen_one_does_not() -> None:
    request = _request(4, HEAVY, method="milp", link_budget=4.0, max_degree=3)
    space = build_space(request)
    within = [a for a in _designs(4) if space.structurally_feasible(a)]
    latency_best = min(within, key=space.latency_objective)
    # The latency-best design sends all 150 over the direct 100-wide link n0-n1.
    assert route_shortest(latency_best, space.latency, space.traffic).max_utilisation(
        space.bandwidth
    ) == pytest.approx(1.5)
    for method in ("milp", "heuristic"):
        result = optimize_topology(request.model_copy(update={"method": method}))
        assert result.status in ("optimal", "feasible"), result.reason
        adj = _adjacency(request, result.topology)
        routing = space.routing(adj)
        assert routing.max_utilisation(space.bandwidth) <= 1 + OVER_TOLERANCE
        assert result.routing_after is not None and result.routing_after.fits
        assert result.routing_after.max_utilisation <= 1 + OVER_TOLERANCE
        assert result.objective_after is not None
        assert result.objective_after > space.latency_objective(latency_best)
    # Exact: the MILP's design is the best of every design routed by the independent LP.
    best_fit = min(space.objective(a) for a in within if space.feasible(a))
    milp = optimize_topology(request)
    assert milp.status == "optimal"
    assert milp.objective_after == pytest.approx(best_fit)
    # 100 on n0-n1, 50 over two hops, 10 on n2-n3.
    assert best_fit == pytest.approx(100 + 50 * 2 + 10)


def test_a_budget_too_small_for_the_traffic_reports_the_shortfall() -> None:
    # A triangle carries at most 100 direct + 100 via n2 = 200 of n0-n1's 350.
    request = _request(3, {(0, 1): 350.0}, method="milp", link_budget=3.0)
    result = optimize_topology(request)
    assert result.status == "infeasible" and not result.applied
    short = result.bandwidth_shortfall
    assert short is not None and short.proven
    assert short.congestion == pytest.approx(350 / 200)
    assert short.carried_fraction == pytest.approx(200 / 350)
    assert "falls short by 75%" in result.reason and "proven" in result.reason
    heuristic = optimize_topology(request.model_copy(update={"method": "heuristic"}))
    assert heuristic.status == "infeasible"
    assert heuristic.bandwidth_shortfall is not None
    assert not heuristic.bandwidth_shortfall.proven
    assert heuristic.bandwidth_shortfall.congestion >= 350 / 200 - 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(3, 7), scale=st.sampled_from([0.5, 2, 6]))
def test_routings_carry_every_pair_and_the_lp_is_never_beaten(
    seed: int, n: int, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    adj = np.triu(rng.random((n, n)) < 0.6, 1)
    for i in range(n - 1):  # a path keeps it connected
        adj[i, i + 1] = True
    adj = adj | adj.T
    latency = np.triu(rng.uniform(0.5, 5, (n, n)), 1)
    latency = latency + latency.T
    bandwidth = np.triu(rng.uniform(50, 150, (n, n)), 1)
    bandwidth = bandwidth + bandwidth.T
    traffic = np.triu(rng.pareto(1.5, (n, n)) * 20 * scale * (rng.random((n, n)) < 0.5), 1)
    traffic = traffic + traffic.T
    lp = route_lp(adj, latency, bandwidth, traffic)
    heuristic = route_within_bandwidth(adj, latency, bandwidth, traffic)
    assert lp is not None
    for routing in (lp, heuristic):
        loads = np.zeros((n, n))
        for (s, t), pieces in routing.paths.items():
            assert sum(amount for _, amount in pieces) == pytest.approx(traffic[s, t])
            for path, amount in pieces:
                assert path[0] == s and path[-1] == t and len(set(path)) == len(path)
                for a, b in itertools.pairwise(path):
                    assert adj[a, b]
                    loads[a, b] += amount
                    loads[b, a] += amount
        assert np.allclose(loads, routing.loads)
    if lp.min_congestion is not None:  # nothing fits: the LP's congestion is the least
        assert lp.min_congestion > 1
        assert heuristic.max_utilisation(bandwidth) >= lp.min_congestion - 1e-6
        assert lp.max_utilisation(bandwidth) == pytest.approx(lp.min_congestion, rel=1e-6)
    else:
        assert lp.fits(bandwidth)
        if heuristic.fits(bandwidth):
            assert lp.traffic_latency <= heuristic.traffic_latency + 1e-6
    if route_shortest(adj, latency, traffic).fits(bandwidth):
        assert route_design(adj, latency, bandwidth, traffic).method == "shortest-path"


def test_workflow_transfers_follow_the_routed_paths() -> None:
    # n0-n1-n2 is the short way (2 ms) but n0-n1 is full with n0-n1's own 100, so n0-n2's
    # traffic is routed over the direct 5 ms link, and so are the workflow's transfers.
    links = [("n0", "n1", 1.0), ("n1", "n2", 1.0), ("n0", "n2", 5.0)]
    topology = {
        "nodes": [{"id": f"n{i}"} for i in range(3)],
        "links": [{"a": a, "b": b, "latency_ms": ms, "bandwidth": 100} for a, b, ms in links],
    }
    request = TopologyRequest(
        topology=Topology.model_validate(topology),
        traffic=[
            NodeTraffic(a="n0", b="n1", volume=100),
            NodeTraffic(a="n0", b="n2", volume=10),
        ],
    )
    space = build_space(request)
    routing = route_design(space.current, space.latency, space.bandwidth, space.traffic, paths=True)
    assert routing.fits(space.bandwidth)
    routes = main_paths(routing, space.nodes)
    assert routes[("n0", "n2")] == ["n0", "n2"] and routes[("n2", "n0")] == ["n2", "n0"]
    assert routed_paths(request) == routes
    problem = Problem.model_validate(
        {
            "agents": [{"id": "a", "node": "n0"}, {"id": "b", "node": "n2"}],
            "tasks": [{"id": "x"}, {"id": "y", "after": [{"task": "x", "data": 50}]}],
            "topology": topology,
        }
    )
    plain = compile_workflow(problem)
    routed = compile_workflow(problem, routes)
    assert plain is not None and routed is not None
    assert plain.transfer(0, 0, 1) == pytest.approx(50 / 100 + 0.002)
    assert routed.transfer(0, 0, 1) == pytest.approx(50 / 100 + 0.005)
    assert routed.transfer(0, 1, 0) == pytest.approx(50 / 100 + 0.005)
    assert compile_problem(problem).workflow is not None  # the default stays the cheapest path
    for bad in (["n0", "n1"], ["n0", "n3", "n2"], ["n1", "n2"]):
        with pytest.raises(ValueError, match="not a path of the topology"):
            compile_workflow(problem, {("n0", "n2"): bad})


def test_a_placement_is_checked_against_link_bandwidth() -> None:
    from allocator.topology_facade import placement_routing
    from models.plan import Plan

    problem = Problem.model_validate(
        {
            "agents": [
                {"id": "a", "node": "p"},
                {"id": "b", "node": "q"},
                {"id": "c", "node": "r"},
                {"id": "off"},
            ],
            "tasks": [{"id": "x"}, {"id": "y"}, {"id": "z"}],
            "communication": [
                {"a": "x", "b": "y", "volume": 30},
                {"a": "x", "b": "z", "volume": 5},
            ],
            "topology": {
                "nodes": [{"id": "p"}, {"id": "q"}, {"id": "r"}],
                "links": [
                    {"a": "p", "b": "q", "latency_ms": 1, "bandwidth": 20},
                    {"a": "q", "b": "r", "latency_ms": 1, "bandwidth": 20},
                    {"a": "p", "b": "r", "latency_ms": 1, "bandwidth": 20},
                ],
            },
        }
    )
    # x-y over p-q: 30 on a 20-wide link; split 20 direct + 10 via r fits (r links: 10 + 5).
    split = placement_routing(problem, Plan(assignments={"x": "a", "y": "b", "z": "c"}))
    assert split is not None and split.fits and split.method == "lp"
    assert split.max_utilisation == pytest.approx(1.0)
    assert split.traffic_latency == pytest.approx(20 * 1 + 10 * 2 + 5 * 1)
    # Together on one agent nothing crosses a link; an agent off the topology carries none.
    assert placement_routing(problem, Plan(assignments={"x": "a", "y": "a", "z": "off"})) is None
    heavy = problem.model_copy(
        update={"communication": [problem.communication[0].model_copy(update={"volume": 50})]}
    )
    short = placement_routing(heavy, Plan(assignments={"x": "a", "y": "b", "z": "c"}))
    assert short is not None and not short.fits
    assert short.min_congestion == pytest.approx(50 / 40)
    assert short.carried_fraction == pytest.approx(40 / 50)


def test_milp_proves_optimality_when_the_latency_optimum_already_fits() -> None:
    # 180 in all, more than one link carries (so bandwidth could bind), but the
    # latency-best design puts 90 on each of two links: the relaxation's optimum fits.
    request = _request(4, {(0, 1): 90.0, (2, 3): 90.0}, method="milp", link_budget=4.0)
    assert build_space(request).bandwidth_binds
    result = optimize_topology(request)
    assert result.status == "optimal" and result.milp is not None
    assert result.milp.bound == pytest.approx(result.objective_after)
    assert result.objective_after == pytest.approx(90 + 90)
    assert result.routing_after is not None and result.routing_after.method == "shortest-path"


@pytest.mark.parametrize("seed", [1, 3, 7])
def test_a_design_either_carries_its_traffic_or_says_by_how_much_it_falls_short(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    pairs = {
        (a, b): float(rng.integers(20, 160))
        for a, b in itertools.combinations(range(5), 2)
        if rng.random() < 0.5
    }
    budget = float(rng.integers(4, 8))
    request = _request(5, pairs, method="milp", link_budget=budget, max_degree=3)
    space = build_space(request)
    result = optimize_topology(request)
    if result.status in ("optimal", "feasible"):
        adj = _adjacency(request, result.topology)
        assert space.routing(adj).max_utilisation(space.bandwidth) <= 1 + OVER_TOLERANCE
        assert result.routing_after is not None and result.routing_after.fits
    else:
        short = result.bandwidth_shortfall
        assert short is not None and short.congestion > 1 and short.proven
        assert f"falls short by {short.congestion - 1:.0%}" in result.reason
