"""evaluate_plan: one tiny test per constraint family and per objective."""

from __future__ import annotations

import numpy as np
import pytest

from models import Agent, ConstraintGroup, Objectives, Problem, Task, compile_problem, evaluate_plan


def _problem(**kw: object) -> Problem:
    base: dict[str, object] = {
        "resources": ["cpu"],
        "agents": [
            Agent(id="a", capacity={"cpu": 2}, cost_rate=1.0),
            Agent(id="b", capacity={"cpu": 2}, speed=2.0, cost_rate=3.0, capabilities=["gpu"]),
        ],
        "tasks": [Task(id=f"t{i}", demand={"cpu": 1}, work=2.0) for i in range(3)],
    }
    base.update(kw)
    return Problem.model_validate(base)


def _kinds(problem: Problem, plan: list[int]) -> list[str]:
    ev = evaluate_plan(compile_problem(problem), np.array(plan))
    return [v.kind for v in ev.violations]


def test_feasible_plan_has_no_violations_and_exact_objectives() -> None:
    ev = evaluate_plan(compile_problem(_problem()), np.array([0, 0, 1]))
    assert ev.feasible
    # cost: a runs two tasks of 2 s at rate 1 = 4; b runs one task of 1 s at rate 3 = 3
    assert ev.objectives["cost"] == pytest.approx(7.0)
    assert ev.objectives["makespan"] == pytest.approx(4.0)
    assert ev.objectives["imbalance"] == pytest.approx(4.0 - 2.5)
    assert ev.load_variance == pytest.approx(np.var([4.0, 1.0]))
    assert ev.jain_fairness == pytest.approx(25 / (2 * 17))


def test_each_task_once_unassigned_is_a_violation_unless_allowed() -> None:
    assert _kinds(_problem(), [0, -1, 1]) == ["unassigned"]
    assert _kinds(_problem(allow_unassigned=True), [0, -1, 1]) == []


def test_unassigned_penalty_is_priority_weighted() -> None:
    p = _problem(
        allow_unassigned=True,
        tasks=[Task(id="t0", priority="critical"), Task(id="t1", priority="low")],
    )
    ev = evaluate_plan(compile_problem(p), np.array([-1, -1]))
    assert ev.objectives["unassigned"] == pytest.approx((8 + 1) * 1000.0)


def test_agent_capacity() -> None:
    assert _kinds(_problem(), [0, 0, 0]) == ["capacity"]


def test_capability_required() -> None:
    tasks = [Task(id="t0", requires=["gpu"]), Task(id="t1")]
    assert _kinds(_problem(tasks=tasks), [0, 1]) == ["ineligible"]
    assert _kinds(_problem(tasks=tasks), [1, 0]) == []


def test_pinned_agent() -> None:
    tasks = [Task(id="t0", pinned_agent="b"), Task(id="t1")]
    assert _kinds(_problem(tasks=tasks), [0, 0]) == ["ineligible"]


def test_max_tasks() -> None:
    agents = [Agent(id="a", capacity={"cpu": 5}, max_tasks=1), Agent(id="b", capacity={"cpu": 5})]
    assert _kinds(_problem(agents=agents), [0, 0, 1]) == ["max_tasks"]


def test_anti_affinity() -> None:
    groups = [ConstraintGroup(kind="anti_affinity", tasks=["t0", "t1"])]
    assert _kinds(_problem(groups=groups), [0, 0, 1]) == ["anti_affinity"]
    assert _kinds(_problem(groups=groups), [0, 1, 0]) == []


def test_co_location() -> None:
    groups = [ConstraintGroup(kind="co_location", tasks=["t0", "t1"])]
    assert _kinds(_problem(groups=groups), [0, 1, 1]) == ["co_location"]
    assert _kinds(_problem(groups=groups), [1, 1, 0]) == []


def test_explicit_gap_matrices_override_attributes() -> None:
    p = _problem(cost=[[1, 2, 3], [4, 5, 6]], usage=[[1, 1, 1], [2, 2, 2]])
    ev = evaluate_plan(compile_problem(p), np.array([0, 0, 1]))
    assert ev.objectives["cost"] == pytest.approx(1 + 2 + 6)
    assert _kinds(p, [1, 1, 0]) == ["capacity"]


def test_completion_runs_in_priority_then_deadline_order() -> None:
    tasks = [
        Task(id="low", priority="low", work=1),
        Task(id="crit", priority="critical", work=2, deadline=1.0),
    ]
    p = _problem(tasks=tasks, agents=[Agent(id="a", capacity={"cpu": 5})])
    ev = evaluate_plan(compile_problem(p), np.array([0, 0]))
    # critical first: completes at 2 (late by 1), low completes at 3
    assert ev.completion_s.tolist() == [3.0, 2.0]
    assert ev.objectives["tardiness"] == pytest.approx(8.0 * 1.0)
    assert ev.objectives["weighted_completion"] == pytest.approx((1 * 3 + 8 * 2) / 9)


def test_migrations_count_moves_from_current_agent() -> None:
    tasks = [Task(id="t0", current_agent="a"), Task(id="t1", current_agent="b"), Task(id="t2")]
    ev = evaluate_plan(compile_problem(_problem(tasks=tasks)), np.array([0, 0, 1]))
    assert ev.objectives["migrations"] == 1


def test_consolidation_counts_idle_capacity_on_used_agents() -> None:
    ev = evaluate_plan(compile_problem(_problem()), np.array([0, 0, 1]))
    assert ev.objectives["consolidation"] == pytest.approx(0.0 + 0.5)


def test_weighted_score_uses_the_weights() -> None:
    p = _problem(objectives=Objectives(weights={"cost": 2.0, "makespan": 1.0}))
    ev = evaluate_plan(compile_problem(p), np.array([0, 0, 1]))
    assert ev.score == pytest.approx(2 * 7.0 + 4.0)


def test_communication_uses_path_latency_between_agents() -> None:
    p = Problem.model_validate(
        {
            "agents": [
                {"id": "a", "capacity": {"cpu": 5}, "node": "n1"},
                {"id": "b", "capacity": {"cpu": 5}, "node": "n3"},
            ],
            "tasks": [{"id": "t0"}, {"id": "t1"}],
            "communication": [{"a": "t0", "b": "t1", "volume": 2.0}],
            "topology": {
                "nodes": [{"id": "n1"}, {"id": "n2"}, {"id": "n3"}],
                "links": [
                    {"a": "n1", "b": "n2", "latency_ms": 1.5},
                    {"a": "n2", "b": "n3", "latency_ms": 2.0},
                ],
            },
        }
    )
    c = compile_problem(p)
    assert evaluate_plan(c, np.array([0, 1])).objectives["communication"] == pytest.approx(7.0)
    assert evaluate_plan(c, np.array([0, 0])).objectives["communication"] == 0.0


def test_plan_of_wrong_length_is_rejected() -> None:
    with pytest.raises(ValueError, match="3 tasks"):
        evaluate_plan(compile_problem(_problem()), np.array([0, 1]))
