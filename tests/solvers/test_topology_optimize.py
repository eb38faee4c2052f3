"""Topology optimisation: every design meets its constraints, the MILP is never beaten,
and the decision respects the threshold."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.errors import InputError
from models.schema import Link, Topology, TopologyNode
from models.topology_request import TopologyConstraints, TopologyRequest
from solvers.topology import build_space, design_milp, improve, optimize_topology
from solvers.topology.candidates import candidate_designs


def _request(
    traffic: np.ndarray,
    *,
    links: list[tuple[int, int]] = (),  # type: ignore[assignment]
    method: str = "heuristic",
    time_limit_s: float = 0.3,
    threshold: float = 0.1,
    **constraints: object,
) -> TopologyRequest:
    n = traffic.shape[0]
    return TopologyRequest(
        topology=Topology(
            nodes=[TopologyNode(id=f"n{i}") for i in range(n)],
            links=[Link(a=f"n{a}", b=f"n{b}") for a, b in links],
        ),
        traffic_matrix=traffic.tolist(),
        constraints=TopologyConstraints.model_validate(constraints),
        method=method,  # type: ignore[arg-type]
        time_limit_s=time_limit_s,
        threshold=threshold,
    )


def _random_traffic(seed: int, n: int, density: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.pareto(1.5, (n, n)) * (rng.random((n, n)) < density)
    return np.triu(t, 1)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(4, 8),
    max_degree=st.integers(3, 5),
    k=st.integers(1, 2),
    spare_links=st.integers(0, 6),
    diameter=st.sampled_from([None, 3.0, 4.0]),
)
def test_every_optimised_topology_meets_its_constraints(
    seed: int, n: int, max_degree: int, k: int, spare_links: int, diameter: float | None
) -> None:
    budget = float(n + spare_links)  # a ring (n links) fits, so there is always a design
    request = _request(
        _random_traffic(seed, n),
        max_degree=max_degree,
        min_connectivity=k,
        link_budget=budget,
        max_diameter_ms=diameter,
    )
    result = optimize_topology(request)
    if result.status == "infeasible":
        assert diameter is not None  # only a tight diameter may rule every design out
        return
    g = nx.Graph()
    g.add_nodes_from(n.id for n in result.topology.nodes)
    g.add_edges_from((link.a, link.b) for link in result.topology.links)
    assert max(d for _, d in g.degree()) <= max_degree
    assert g.number_of_edges() <= budget
    assert nx.node_connectivity(g) >= k
    if diameter is not None:
        assert nx.diameter(g) <= diameter
    assert result.after.traffic_latency == pytest.approx(result.objective_after)


@pytest.mark.parametrize("seed", range(4))
def test_milp_optimum_is_never_worse_than_the_heuristic(seed: int) -> None:
    n = 6 + seed % 2
    request = _request(_random_traffic(seed, n), max_degree=3, link_budget=float(n + 2))
    space = build_space(request)
    start = candidate_designs(space)[0]
    heuristic = improve(space, start.adj, time_limit_s=0.3, seed=seed)
    exact = design_milp(space, time_limit_s=30)
    assert exact.optimal and exact.adj is not None
    assert space.feasible(exact.adj)
    assert exact.objective <= heuristic.objective + 1e-6
    assert exact.bound is not None and exact.bound <= exact.objective + 1e-6


def test_milp_meets_two_connectivity_with_lazy_cuts() -> None:
    request = _request(
        _random_traffic(3, 6, density=0.3), max_degree=3, min_connectivity=2, link_budget=7.0
    )
    space = build_space(request)
    exact = design_milp(space, time_limit_s=30)
    assert exact.adj is not None and space.feasible(exact.adj)
    assert space.connectivity(exact.adj) >= 2


def test_small_gain_is_not_applied_and_says_why() -> None:
    traffic = np.zeros((4, 4))
    traffic[0, 1] = 1.0
    ring = [(0, 1), (1, 2), (2, 3), (3, 0)]
    result = optimize_topology(_request(traffic, links=ring, max_degree=2, link_budget=4.0))
    assert not result.applied
    assert "threshold" in result.reason or "nothing to gain" in result.reason
    assert result.links_to_add == [] and result.links_to_remove == []


def test_big_gain_is_applied_with_a_diff() -> None:
    traffic = np.zeros((6, 6))
    traffic[0, 3] = 10.0
    ring = [(i, (i + 1) % 6) for i in range(6)]
    result = optimize_topology(_request(traffic, links=ring, max_degree=3, link_budget=7.0))
    assert result.applied and result.improvement is not None and result.improvement >= 0.1
    assert ("n0", "n3") in [(link.a, link.b) for link in result.links_to_add]
    assert result.objective_after == pytest.approx(10.0)


def test_impossible_constraints_are_reported_not_raised() -> None:
    result = optimize_topology(
        _request(_random_traffic(1, 5), max_degree=2, min_connectivity=3, link_budget=10.0)
    )
    assert result.status == "infeasible" and not result.applied
    assert "min_connectivity" in result.reason


def test_auto_method_runs_the_milp_on_small_instances() -> None:
    result = optimize_topology(
        _request(
            _random_traffic(5, 6), method="auto", time_limit_s=4.0, max_degree=3, link_budget=8.0
        )
    )
    assert result.milp is not None and result.milp.optimal
    assert result.milp.heuristic_gap is not None and result.milp.heuristic_gap >= -1e-9


def test_empty_topology_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no nodes"):
        optimize_topology(TopologyRequest(topology=Topology()))
