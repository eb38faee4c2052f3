"""The schedule check inside `evaluate_plan`: precedence with transfers, one task at a time,
makespan and tardiness from the schedule, and the schedule a plan carries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Problem, compile_problem, evaluate_plan, plan_from_array
from models.compiled import CompiledProblem
from models.generators.workflow import generate_workflow_problem
from models.plan import plan_start_array
from models.schedule_check import check_schedule, derive_schedule


def _chain() -> CompiledProblem:
    """x (work 2) -> y (work 2, 3 data units) -> z (work 1, deadline 4); bandwidth 2."""
    doc = {
        "agents": [{"id": "a", "speed": 1.0}, {"id": "b", "speed": 2.0}],
        "tasks": [
            {"id": "x", "work": 2},
            {"id": "y", "work": 2, "after": [{"task": "x", "data": 3}]},
            {"id": "z", "work": 1, "deadline": 4, "after": ["y"]},
        ],
        "default_bandwidth": 2.0,
        "objectives": {"weights": {"makespan": 1.0}},
    }
    return compile_problem(Problem.model_validate(doc))


def test_a_correct_schedule_passes_and_its_makespan_is_the_latest_finish() -> None:
    problem = _chain()
    a = np.array([0, 1, 1])
    # x on a: 0-2; data 3 at bandwidth 2 -> y on b from 3.5 to 4.5; z on b 4.5-5.
    ev = evaluate_plan(problem, a, np.array([0.0, 3.5, 4.5]))
    assert ev.feasible, [v.message for v in ev.violations]
    assert ev.objectives["makespan"] == pytest.approx(5.0)
    # z is weight 2 (normal priority) and one second late.
    assert ev.objectives["tardiness"] == pytest.approx(2.0)
    assert ev.completion_s.tolist() == pytest.approx([2.0, 4.5, 5.0])


def test_starting_before_the_data_arrives_is_a_precedence_violation() -> None:
    problem = _chain()
    ev = evaluate_plan(problem, np.array([0, 1, 1]), np.array([0.0, 3.0, 4.0]))
    kinds = {v.kind for v in ev.violations}
    assert kinds == {"precedence"}
    assert any("task y starts at 3" in v.message and "3.5" in v.message for v in ev.violations)


def test_same_agent_needs_no_transfer() -> None:
    problem = _chain()
    ev = evaluate_plan(problem, np.array([0, 0, 0]), np.array([0.0, 2.0, 4.0]))
    assert ev.feasible and ev.objectives["makespan"] == pytest.approx(5.0)


def test_two_tasks_at_once_on_one_agent_is_an_overlap_violation() -> None:
    doc = {
        "agents": [{"id": "a"}],
        "tasks": [{"id": "x", "work": 2}, {"id": "y", "after": ["x"]}, {"id": "w", "work": 3}],
    }
    problem = compile_problem(Problem.model_validate(doc))
    ev = evaluate_plan(problem, np.array([0, 0, 0]), np.array([0.0, 2.0, 1.0]))
    assert [v.kind for v in ev.violations] == ["overlap", "overlap"]
    assert "agent a runs" in ev.violations[0].message


def test_negative_or_missing_start_is_reported() -> None:
    problem = _chain()
    ev = evaluate_plan(problem, np.array([0, 0, 0]), np.array([-1.0, np.nan, 4.0]))
    assert [v.kind for v in ev.violations] == ["schedule", "schedule"]


def test_a_placed_task_after_an_unassigned_one_breaks_precedence() -> None:
    problem = _chain()
    problem.allow_unassigned = True
    ev = evaluate_plan(problem, np.array([-1, 0, 0]), np.array([np.nan, 0.0, 2.0]))
    assert any(v.kind == "precedence" and "unassigned" in v.message for v in ev.violations)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), ccr=st.sampled_from([0.5, 5.0]))
def test_derived_schedules_pass_their_own_check(seed: int, ccr: float) -> None:
    problem = compile_problem(generate_workflow_problem(30, 3, ccr, seed))
    a = np.random.default_rng(seed).integers(0, 3, size=30)
    start = derive_schedule(problem, a)
    check = check_schedule(problem, a, start)
    assert check.issues == []
    assert check.makespan == pytest.approx(float(check.finish.max()))
    # Without a schedule, evaluate_plan scores exactly the derived one.
    assert evaluate_plan(problem, a).objectives["makespan"] == pytest.approx(check.makespan)


def test_plan_carries_its_schedule_and_reads_back() -> None:
    problem = _chain()
    a, start = np.array([0, 1, 1]), np.array([0.0, 3.5, 4.5])
    plan = plan_from_array(problem, a, start)
    assert plan.schedule is not None
    assert plan.schedule["y"].agent == "b"
    assert plan.schedule["y"].finish == pytest.approx(4.5)
    again = plan_start_array(problem, plan)
    assert again is not None and again.tolist() == start.tolist()


def test_plans_without_dependencies_have_no_schedule() -> None:
    problem = compile_problem(
        Problem.model_validate({"agents": [{"id": "a"}], "tasks": [{"id": "x"}]})
    )
    assert plan_from_array(problem, np.array([0])).schedule is None


def test_data_that_can_never_arrive_is_a_violation_with_numbers_not_nan() -> None:
    doc = {
        "agents": [{"id": "a", "node": "p"}, {"id": "b", "node": "q"}],
        "tasks": [{"id": "x"}, {"id": "y", "after": ["x"]}],
        "topology": {"nodes": [{"id": "p"}, {"id": "q"}], "links": []},
        "objectives": {"weights": {"makespan": 1.0, "tardiness": 1.0}},
    }
    problem = compile_problem(Problem.model_validate(doc))
    ev = evaluate_plan(problem, np.array([0, 1]))
    assert not ev.feasible and ev.violations[0].kind == "schedule"
    assert np.isfinite(ev.score) and all(np.isfinite(v) for v in ev.objectives.values())
