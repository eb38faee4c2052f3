"""Property: every recommend score_delta equals the difference of two evaluate_plan calls."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import OBJECTIVE_NAMES, Communication, Task
from models.recommendation import Recommender, problem_with_task
from tests.models.decision_problems import close, evaluate, plans, problems, tasks_strategy


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    problem = draw(problems())
    plan = draw(plans(problem))
    task = Task.model_validate(draw(tasks_strategy("new", len(problem.agents))))
    peers = draw(st.lists(st.integers(0, len(problem.tasks) - 1), max_size=3))
    comm = [Communication(a="new", b=f"t{k}", volume=1.5 + k) for k in peers]
    return problem, plan, task, comm


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_recommend_deltas_equal_two_evaluations(case: tuple) -> None:
    problem, plan, task, comm = case
    before = evaluate(problem, plan)
    bigger = problem_with_task(problem, task, comm)
    recs = Recommender(problem, plan).recommend(task, communication=comm)
    assert len(recs) == len(problem.agents)
    agent_index = {a.id: i for i, a in enumerate(problem.agents)}
    for rec in recs:
        after = evaluate(bigger, np.r_[plan, agent_index[rec.agent]])
        assert close(rec.score_delta, before.score, after.score), rec
        for name in OBJECTIVE_NAMES:
            assert close(
                rec.objectives_delta[name], before.objectives[name], after.objectives[name]
            ), (name, rec)
        new_kinds = len(after.violations) - len(before.violations)
        if before.feasible:
            assert rec.feasible == (new_kinds == 0), (rec, after.violations)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_ranking_puts_feasible_first_then_score(case: tuple) -> None:
    problem, plan, task, comm = case
    recs = Recommender(problem, plan).recommend(task, communication=comm)
    keys = [(not r.feasible, r.score_delta) for r in recs]
    assert keys == sorted(keys)
    assert all(r.feasible == (not r.reasons) for r in recs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_inverse_deltas_equal_two_evaluations(data: st.DataObject) -> None:
    problem = data.draw(problems())
    plan = data.draw(plans(problem))
    agent = data.draw(st.integers(0, len(problem.agents) - 1))
    before = evaluate(problem, plan)
    task_index = {t.id: j for j, t in enumerate(problem.tasks)}
    recs = Recommender(problem, plan).recommend_for_agent(f"a{agent}")
    assert len(recs) == int((plan != agent).sum())
    keys = [(not r.feasible, plan[task_index[r.task]] >= 0, r.score_delta) for r in recs]
    assert keys == sorted(keys)
    for rec in recs:
        moved = plan.copy()
        moved[task_index[rec.task]] = agent
        after = evaluate(problem, moved)
        assert rec.feasible == (not rec.reasons), rec
        assert close(rec.score_delta, before.score, after.score), rec
        for name in OBJECTIVE_NAMES:
            assert close(
                rec.objectives_delta[name], before.objectives[name], after.objectives[name]
            ), (name, rec)


def test_workflow_problems_fall_back_to_exact_evaluations() -> None:
    """Tasks with dependencies: a move reshapes the schedule, deltas come from evaluations."""
    from models import Problem

    problem = Problem.model_validate(
        {
            "resources": ["cpu"],
            "agents": [
                {"id": "a0", "capacity": {"cpu": 4}},
                {"id": "a1", "capacity": {"cpu": 4}, "speed": 2},
            ],
            "tasks": [
                {"id": "t0", "demand": {"cpu": 1}, "work": 2},
                {"id": "t1", "demand": {"cpu": 1}, "work": 3, "after": ["t0"]},
                {"id": "t2", "demand": {"cpu": 1}, "work": 1, "deadline": 2.0},
            ],
            "objectives": {"weights": {"cost": 1.0, "makespan": 1.0, "tardiness": 2.0}},
        }
    )
    plan = np.array([0, 1, 0])
    recommender = Recommender(problem, plan)
    assert recommender.state.needs_full_evaluation
    before = evaluate(problem, plan)
    new = Task(id="new", demand={"cpu": 1}, work=1.5)
    bigger = problem_with_task(problem, new)
    for rec in recommender.recommend(new):
        after = evaluate(bigger, np.r_[plan, int(rec.agent[1:])])
        assert close(rec.score_delta, before.score, after.score)
    for rec in recommender.recommend_for_agent("a1"):
        moved = plan.copy()
        moved[int(rec.task[1:])] = 1
        assert close(rec.score_delta, before.score, evaluate(problem, moved).score)
