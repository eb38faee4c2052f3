"""Property: explain's move deltas and contributions equal differences of evaluate_plan calls."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import OBJECTIVE_NAMES, compile_problem
from models.explanation import explain_plan
from tests.models.decision_problems import close, evaluate, plans, problems


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_alternatives_and_contributions_are_exact(data: st.DataObject) -> None:
    problem = data.draw(problems())
    plan = data.draw(plans(problem))
    m = len(problem.agents)
    before = evaluate(problem, plan)
    agent_index = {a.id: i for i, a in enumerate(problem.agents)}
    result = explain_plan(problem, plan, alternatives=m)
    assert result["score"] == before.score
    for j, task in enumerate(problem.tasks):
        info = result["tasks"][task.id]
        assert info["agent"] == (problem.agents[plan[j]].id if plan[j] >= 0 else None)
        listed = {alt["agent"] for alt in info["alternatives"]} | set(info["blocked"])
        assert listed == {a.id for i, a in enumerate(problem.agents) if i != plan[j]}
        for alt in info["alternatives"]:
            moved = plan.copy()
            moved[j] = agent_index[alt["agent"]]
            after = evaluate(problem, moved)
            assert close(alt["score_delta"], before.score, after.score)
            for name in OBJECTIVE_NAMES:
                assert close(
                    alt["objectives_delta"][name], before.objectives[name], after.objectives[name]
                ), name
        without = plan.copy()
        without[j] = -1
        after = evaluate(problem, without)
        assert close(-info["score_contribution"], before.score, after.score)
        for name in OBJECTIVE_NAMES:
            value = -info["contribution"][name]
            assert close(value, before.objectives[name], after.objectives[name])
        deltas = [alt["score_delta"] for alt in info["alternatives"]]
        assert deltas == sorted(deltas)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_blocked_agents_really_break_a_constraint(data: st.DataObject) -> None:
    """From a feasible start (empty plan, unassigned allowed): blocked <=> a new violation."""
    problem = data.draw(problems()).model_copy(update={"allow_unassigned": True, "groups": []})
    plan = np.full(len(problem.tasks), -1, dtype=np.int64)
    compiled = compile_problem(problem)
    result = explain_plan(problem, plan, alternatives=len(problem.agents), compiled=compiled)
    for j, task in enumerate(problem.tasks):
        info = result["tasks"][task.id]
        for i, agent in enumerate(problem.agents):
            trial = plan.copy()
            trial[j] = i
            broken = evaluate(problem, trial).violations
            assert (agent.id in info["blocked"]) == bool(broken), (agent.id, broken)
            for reason in info["blocked"].get(agent.id, []):
                assert reason["code"] in {"capability", "pinned", "capacity", "max_tasks"}


def test_agent_binding_resources_and_slack() -> None:
    from models import Agent, Problem, Task

    problem = Problem(
        resources=["cpu", "mem"],
        agents=[Agent(id="a", capacity={"cpu": 4, "mem": 10}, max_tasks=2)],
        tasks=[
            Task(id="t0", demand={"cpu": 3, "mem": 1}),
            Task(id="t1", demand={"cpu": 2, "mem": 1}),
        ],
        allow_unassigned=True,
    )
    agents = explain_plan(problem, np.array([0, -1]))["agents"]
    assert agents["a"]["slack"] == {"cpu": 1.0, "mem": 9.0}
    assert agents["a"]["binding"] == ["cpu"]  # 1 cpu left; t1 needs 2
    assert agents["a"]["max_tasks_left"] == 1
