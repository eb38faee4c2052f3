"""A plan's communication on the topology's links: evaluate_plan routes it, reports link
loads, flags a plan over a link's bandwidth, and times workflow transfers on the routed
paths."""

from __future__ import annotations

import numpy as np
import pytest

from models import Problem, compile_problem, evaluate_plan
from models.evaluation import with_plan_routes
from models.generators.instances import generate_attribute_problem
from models.generators.networked import generate_networked_problem
from models.placement_network import node_traffic
from models.schedule_check import check_schedule
from models.topology_routing import route_shortest


def _triangle(direct_bandwidth: float, volume: float, **extra: object) -> Problem:
    """Agents A on n1, B on n2, C on n3; tasks x and y talk at `volume`.

    Link n1-n2 is direct (1 ms, `direct_bandwidth`); n1-n3-n2 is the detour (1 ms each,
    bandwidth 10 each)."""
    doc = {
        "name": "triangle",
        "agents": [
            {"id": "A", "capacity": {"cpu": 10}, "node": "n1"},
            {"id": "B", "capacity": {"cpu": 10}, "node": "n2"},
            {"id": "C", "capacity": {"cpu": 10}, "node": "n3"},
        ],
        "tasks": [{"id": "x", "demand": {"cpu": 1}}, {"id": "y", "demand": {"cpu": 1}}],
        "communication": [{"a": "x", "b": "y", "volume": volume}],
        "topology": {
            "nodes": [{"id": "n1"}, {"id": "n2"}, {"id": "n3"}],
            "links": [
                {"a": "n1", "b": "n2", "latency_ms": 1, "bandwidth": direct_bandwidth},
                {"a": "n1", "b": "n3", "latency_ms": 1, "bandwidth": 10},
                {"a": "n3", "b": "n2", "latency_ms": 1, "bandwidth": 10},
            ],
        },
        **extra,
    }
    return Problem.model_validate(doc)


def test_traffic_within_the_shortest_path_is_reported_and_feasible() -> None:
    compiled = compile_problem(_triangle(direct_bandwidth=20, volume=15))
    ev = evaluate_plan(compiled, np.array([0, 1]))
    assert ev.feasible
    assert ev.link_use is not None and ev.link_use.routing.method == "shortest-path"
    assert ev.link_use.links() == [("n1", "n2", 15.0, 20.0)]
    assert ev.link_use.max_utilisation == pytest.approx(0.75)


def test_traffic_routed_around_a_full_link_is_feasible_and_within_bandwidth() -> None:
    compiled = compile_problem(_triangle(direct_bandwidth=10, volume=15))
    ev = evaluate_plan(compiled, np.array([0, 1]))
    assert ev.feasible, [v.message for v in ev.violations]
    use = ev.link_use
    assert use is not None and use.routing.method == "heuristic" and use.fits
    assert use.shortest_overloaded == 1
    loads = {(a, b): t for a, b, t, _ in use.links()}
    # 10 on the direct link, the other 5 over both detour links: every link within 10.
    assert loads[("n1", "n2")] == pytest.approx(10.0)
    assert loads[("n1", "n3")] == pytest.approx(5.0)
    assert loads[("n2", "n3")] == pytest.approx(5.0)
    assert use.max_utilisation <= 1 + 1e-9


def test_a_plan_over_bandwidth_is_a_violation_that_says_by_how_much() -> None:
    # 25 between n1 and n2: at most 10 direct + 10 around, so 125% at best.
    compiled = compile_problem(_triangle(direct_bandwidth=10, volume=25))
    ev = evaluate_plan(compiled, np.array([0, 1]))
    bandwidth = [v for v in ev.violations if v.kind == "bandwidth"]
    assert len(bandwidth) == 1 and not ev.feasible
    assert ev.link_use is not None and not ev.link_use.fits
    # Routed around full links: 10 direct, 10 round, the 5 left over on the direct link.
    assert ev.link_use.max_utilisation == pytest.approx(1.5)
    assert "worst n1-n2 at 150% of its bandwidth; 1 over on shortest paths" in bandwidth[0].message
    # The heuristic's least congestion is an upper bound on the true 1.25, and close to it.
    assert 1.25 - 1e-9 <= ev.link_use.least_congestion() <= 1.25 * 1.05
    # The same tasks on one node put nothing on a link.
    together = evaluate_plan(compiled, np.array([0, 0]))
    assert together.feasible and together.link_use is None


def test_without_topology_or_communication_nothing_is_routed() -> None:
    plain = compile_problem(generate_attribute_problem(30, 5, seed=1))
    assert plain.network is None
    assert evaluate_plan(plain, np.zeros(30, dtype=int)).link_use is None
    no_comm = _triangle(direct_bandwidth=10, volume=25).model_copy(update={"communication": []})
    assert compile_problem(no_comm).network is None


def test_node_traffic_counts_each_pair_once_and_skips_same_node_and_unassigned() -> None:
    compiled = compile_problem(_triangle(direct_bandwidth=10, volume=7))
    net = compiled.network
    assert net is not None
    split = node_traffic(net, compiled.comm_pairs, compiled.comm_volume, np.array([0, 2]))
    assert split[0, 2] == split[2, 0] == 7.0 and split.sum() == 14.0
    for plan in ([1, 1], [-1, 2]):
        assert not node_traffic(
            net, compiled.comm_pairs, compiled.comm_volume, np.array(plan)
        ).any()


def test_workflow_transfers_follow_the_routed_path() -> None:
    # y needs 50 data units from x. Direct link 5 wide, detour 10 wide: of 15 units/s of
    # traffic 10 goes round (the main path), so the transfer takes the detour.
    problem = _triangle(direct_bandwidth=5, volume=15)
    tasks = [
        {"id": "x", "demand": {"cpu": 1}, "work": 1.0},
        {"id": "y", "demand": {"cpu": 1}, "work": 1.0, "after": [{"task": "x", "data": 50.0}]},
    ]
    doc = problem.model_dump()
    doc["tasks"] = tasks
    compiled = compile_problem(Problem.model_validate(doc))
    plan = np.array([0, 1])
    routed = with_plan_routes(compiled, plan)
    assert routed is not compiled and routed.workflow is not None
    assert compiled.workflow is not None
    assert compiled.workflow.fixed[0, 1] == pytest.approx(0.001)  # direct: 1 ms
    assert routed.workflow.fixed[0, 1] == pytest.approx(0.002)  # detour: 2 ms
    assert routed.workflow.per_data[0, 1] == pytest.approx(1 / 10)
    ev = evaluate_plan(compiled, plan)
    assert ev.feasible
    # y starts once x (1 s) is done and 50 units crossed the detour: 5 s + 2 ms.
    assert ev.completion_s[1] == pytest.approx(1.0 + 5.0 + 0.002 + 1.0)
    # Starting y as soon as data arrive over the detour is valid on the routed path, and
    # would be too early on the direct link's delays (10 s + 1 ms).
    start = np.array([0.0, 1.0 + 5.002])
    assert evaluate_plan(compiled, plan, start).feasible
    direct = check_schedule(compiled, plan, start)
    assert any(issue.kind == "precedence" for issue in direct.issues)


@pytest.mark.parametrize(("n_nodes", "seed"), [(2, 0), (7, 1), (30, 2)])
def test_paths_kept_once_give_the_same_loads_as_routing_each_time(n_nodes: int, seed: int) -> None:
    problem = generate_networked_problem(200, 12, n_nodes, seed)
    compiled = compile_problem(problem)
    net = compiled.network
    assert net is not None
    plan = np.random.default_rng(seed).integers(-1, compiled.n_agents, compiled.n_tasks)
    traffic = node_traffic(net, compiled.comm_pairs, compiled.comm_volume, plan)
    routed = route_shortest(net.adjacency, net.latency, traffic, paths=False)
    iu, ku = net.link_ends
    np.testing.assert_allclose(net.shortest_loads(traffic), routed.loads[iu, ku], atol=1e-9)
    # Each pair's kept path joins its two nodes: its links' latencies add up to the distance.
    for u, w in [(0, n_nodes - 1), (n_nodes // 2, 0)]:
        if u != w:
            links = net.path(u, w)
            assert net.latency[iu[links], ku[links]].sum() == pytest.approx(net.distance[u, w])


def test_a_network_whose_narrowest_link_carries_all_traffic_cannot_overload() -> None:
    tight = compile_problem(_triangle(direct_bandwidth=10, volume=15)).network
    ample = compile_problem(_triangle(direct_bandwidth=20, volume=9)).network
    assert tight is not None and tight.may_overload
    assert ample is not None and not ample.may_overload
