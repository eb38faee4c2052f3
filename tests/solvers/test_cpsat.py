"""CP-SAT: one tiny test per constraint family, the modes, bounds and the diagnosis."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models import (
    Agent,
    CompiledProblem,
    ConstraintGroup,
    Objectives,
    Problem,
    Task,
    compile_problem,
    evaluate_plan,
)
from models.generators.gap import compile_gap, generate_gap
from solvers.base import SolveOptions, SolveStatus, StopReason
from solvers.cpsat.solver import CpSatSolver, diagnose_infeasibility

OPTS = SolveOptions(time_limit_s=2.0, workers=2, seed=1)


def brute_force(problem: CompiledProblem) -> list[tuple[np.ndarray, float]]:
    """Every feasible plan with its score (m^n plans: keep instances tiny)."""
    choices = list(range(problem.n_agents)) + ([-1] if problem.allow_unassigned else [])
    out = []
    for combo in itertools.product(choices, repeat=problem.n_tasks):
        plan = np.array(combo)
        ev = evaluate_plan(problem, plan)
        if ev.feasible:
            out.append((plan, ev.score))
    return out


def solve(problem: Problem, options: SolveOptions = OPTS):
    compiled = compile_problem(problem)
    result = CpSatSolver().solve(compiled, options)
    return compiled, result


def small(tasks: list[Task], agents: list[Agent] | None = None, **kw) -> Problem:
    agents = agents or [
        Agent(id="a0", capacity={"cpu": 4}, cost_rate=1.0),
        Agent(id="a1", capacity={"cpu": 4}, cost_rate=2.0),
        Agent(id="a2", capacity={"cpu": 4}, cost_rate=3.0),
    ]
    return Problem(agents=agents, tasks=tasks, **kw)


def unit_tasks(n: int, cpu: float = 1.0) -> list[Task]:
    return [Task(id=f"t{j}", demand={"cpu": cpu}, work=1.0 + j % 3) for j in range(n)]


def test_each_task_once_assigns_every_task() -> None:
    compiled, result = solve(small(unit_tasks(5)))
    assert result.status == SolveStatus.OPTIMAL
    assert np.all(result.assignment >= 0)
    assert evaluate_plan(compiled, result.assignment).feasible


def test_each_task_at_most_once_with_allow_unassigned() -> None:
    # 14 tasks, room for 12: two stay out, and it is optimal to drop the cheapest.
    compiled, result = solve(small(unit_tasks(14), allow_unassigned=True))
    assert result.status == SolveStatus.OPTIMAL
    assert int((result.assignment < 0).sum()) == 2
    assert evaluate_plan(compiled, result.assignment).feasible


def test_agent_capacity_is_respected_per_dimension() -> None:
    agents = [
        Agent(id="cheap", capacity={"cpu": 2, "mem": 100}, cost_rate=1.0),
        Agent(id="dear", capacity={"cpu": 100, "mem": 100}, cost_rate=5.0),
    ]
    tasks = [Task(id=f"t{j}", demand={"cpu": 1, "mem": 1}) for j in range(4)]
    compiled, result = solve(Problem(resources=["cpu", "mem"], agents=agents, tasks=tasks))
    assert int((result.assignment == 0).sum()) == 2
    assert evaluate_plan(compiled, result.assignment).feasible


def test_eligibility_only_capable_agents() -> None:
    agents = [
        Agent(id="plain", capacity={"cpu": 4}, cost_rate=1.0),
        Agent(id="gpu", capacity={"cpu": 4}, cost_rate=9.0, capabilities=["gpu"]),
    ]
    tasks = [Task(id="train", demand={"cpu": 1}, requires=["gpu"]), Task(id="web")]
    _compiled, result = solve(small(tasks, agents))
    assert result.assignment.tolist() == [1, 0]


def test_max_tasks_caps_the_cheap_agent() -> None:
    agents = [
        Agent(id="a0", capacity={"cpu": 10}, cost_rate=1.0, max_tasks=1),
        Agent(id="a1", capacity={"cpu": 10}, cost_rate=2.0),
    ]
    _compiled, result = solve(small(unit_tasks(3), agents))
    assert int((result.assignment == 0).sum()) == 1


def test_anti_affinity_spreads_the_group() -> None:
    group = ConstraintGroup(kind="anti_affinity", tasks=["t0", "t1", "t2"])
    _compiled, result = solve(small(unit_tasks(3), groups=[group]))
    assert len(set(result.assignment.tolist())) == 3


def test_co_location_keeps_the_group_together() -> None:
    group = ConstraintGroup(kind="co_location", tasks=["t0", "t3"])
    tasks = unit_tasks(4, cpu=2.0)  # a0 fits two: without the group, t0 and t1 would share
    tasks[3] = Task(id="t3", demand={"cpu": 2}, work=9.0)
    compiled, result = solve(small(tasks, groups=[group]))
    assert result.assignment[0] == result.assignment[3]
    assert evaluate_plan(compiled, result.assignment).feasible


@pytest.mark.parametrize(
    "weights",
    [
        {"cost": 1.0, "migrations": 5.0},
        {"cost": 1.0, "consolidation": 3.0},
        {"makespan": 1.0},
        {"imbalance": 1.0, "cost": 0.1},
        {"communication": 1.0, "cost": 1.0},
    ],
)
def test_weighted_objectives_match_brute_force(weights: dict[str, float]) -> None:
    from models import Communication, Link, Topology, TopologyNode

    agents = [
        Agent(id=f"a{i}", capacity={"cpu": 3}, cost_rate=1.0 + i, speed=1.0 + 0.5 * i, node=f"n{i}")
        for i in range(3)
    ]
    tasks = unit_tasks(5)
    tasks[1] = Task(id="t1", demand={"cpu": 1}, work=2.0, current_agent="a2")
    topo = Topology(
        nodes=[TopologyNode(id=f"n{i}") for i in range(3)],
        links=[Link(a="n0", b="n1", latency_ms=2.0), Link(a="n1", b="n2", latency_ms=3.0)],
    )
    problem = small(
        tasks,
        agents,
        objectives=Objectives(weights=weights),
        topology=topo,
        communication=[Communication(a="t0", b="t3", volume=4.0)],
    )
    compiled, result = solve(problem)
    best = min(score for _, score in brute_force(compiled))
    # Optimal only when the proof survives the integer scaling's rounding error.
    assert result.status == SolveStatus.OPTIMAL or (
        result.status == SolveStatus.FEASIBLE and "rounding error" in " ".join(result.notes)
    )
    assert result.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert result.bound is not None and result.bound <= best + 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_bound_never_exceeds_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    agents = [
        Agent(
            id=f"a{i}",
            capacity={"cpu": float(rng.uniform(2, 4))},
            cost_rate=float(rng.uniform(0.5, 3)),
        )
        for i in range(3)
    ]
    tasks = [
        Task(
            id=f"t{j}",
            demand={"cpu": float(rng.uniform(0.3, 1.5))},
            work=float(rng.uniform(0.5, 3)),
        )
        for j in range(5)
    ]
    weights = {"cost": 1.0, "makespan": float(rng.uniform(0, 2)), "imbalance": 0.7}
    compiled, result = solve(small(tasks, agents, objectives=Objectives(weights=weights)))
    plans = brute_force(compiled)
    if not plans:
        assert result.status == SolveStatus.INFEASIBLE
        return
    best = min(score for _, score in plans)
    assert result.bound is not None and result.bound <= best + 1e-9
    assert result.objective is not None and result.objective >= best - 1e-9


def test_unmodelled_objective_is_noted_and_not_claimed_optimal() -> None:
    _compiled, result = solve(
        small(
            unit_tasks(4), objectives=Objectives(weights={"cost": 1.0, "weighted_completion": 1.0})
        )
    )
    assert result.status == SolveStatus.FEASIBLE
    assert any("weighted_completion" in note for note in result.notes)


def test_lexicographic_optimises_in_order() -> None:
    objectives = Objectives(mode="lexicographic", order=["makespan", "cost"])
    agents = [
        Agent(id=f"a{i}", capacity={"cpu": 4}, cost_rate=1.0 + i, speed=1.0 + i) for i in range(3)
    ]
    compiled, result = solve(small(unit_tasks(5), agents, objectives=objectives))
    plans = [(evaluate_plan(compiled, p).objectives, p) for p, _ in brute_force(compiled)]
    best = min((o["makespan"], o["cost"]) for o, _ in plans)
    got = evaluate_plan(compiled, result.assignment).objectives
    assert (got["makespan"], got["cost"]) == pytest.approx(best)


def test_pareto_front_points_are_exact_and_non_dominated() -> None:
    objectives = Objectives(mode="pareto", pareto=["cost", "makespan"])
    agents = [
        Agent(id=f"a{i}", capacity={"cpu": 4}, cost_rate=1.0 + 2 * i, speed=1.0 + i)
        for i in range(3)
    ]
    compiled, result = solve(
        small(unit_tasks(5), agents, objectives=objectives),
        SolveOptions(time_limit_s=4.0, workers=2),
    )
    assert result.status == SolveStatus.OPTIMAL and len(result.front) >= 2
    points = []
    for plan in result.front:
        ev = evaluate_plan(compiled, plan)
        assert ev.feasible
        points.append((ev.objectives["cost"], ev.objectives["makespan"]))
    for a, b in itertools.permutations(points, 2):
        assert not (b[0] <= a[0] and b[1] <= a[1])  # b does not dominate a
    every = [evaluate_plan(compiled, p).objectives for p, _ in brute_force(compiled)]
    tol = 1e-5  # float32 data: equal plans differ in the 7th digit
    for cost, makespan in points:  # no enumerated plan dominates a returned point
        assert not any(
            (o["cost"] <= cost - tol and o["makespan"] <= makespan + tol)
            or (o["cost"] <= cost + tol and o["makespan"] <= makespan - tol)
            for o in every
        )


def test_infeasible_is_proven_and_diagnosed_by_counting() -> None:
    problem = small(unit_tasks(13))  # 13 cpu on 12 cpu of agents
    compiled, result = solve(problem)
    assert result.status == SolveStatus.INFEASIBLE
    assert result.stop_reason == StopReason.INFEASIBLE_PROVEN
    reasons = diagnose_infeasibility(compiled)
    assert reasons and "cpu demand exceeds total capacity by 1" in reasons[0]


def test_missing_capability_is_named() -> None:
    compiled = compile_problem(small([Task(id="t9", requires=["fpga"])]))
    assert "task t9 has no eligible agent" in diagnose_infeasibility(compiled)[0]


def test_diagnosis_names_the_blocking_group() -> None:
    group = ConstraintGroup(kind="co_location", tasks=["t0", "t1", "t2", "t3", "t4"])
    compiled = compile_problem(small(unit_tasks(5), groups=[group]))
    reasons = diagnose_infeasibility(compiled)
    assert reasons and "co-location group 0" in reasons[0]
    assert "capacity" in reasons[0]


def test_generated_gap_solved_with_valid_bound() -> None:
    compiled = compile_gap(generate_gap("C", 5, 30, seed=3))
    result = CpSatSolver().solve(compiled, OPTS)
    ev = evaluate_plan(compiled, result.assignment)
    assert ev.feasible and result.bound is not None
    assert result.bound <= ev.score + 1e-9
    assert result.trace and result.trace[-1][1] == pytest.approx(ev.score)


def test_hint_is_used_and_incumbents_reported() -> None:
    compiled = compile_gap(generate_gap("D", 5, 40, seed=2))
    seen: list[float] = []
    options = SolveOptions(
        time_limit_s=1.0,
        workers=2,
        hints=[np.zeros(40, dtype=np.int32)],
        on_incumbent=lambda plan, value: seen.append(value),
    )
    result = CpSatSolver().solve(compiled, options)
    assert result.has_plan and seen and seen == sorted(seen, reverse=True)
