"""Re-planning keeps its move budget strictly and never moves a pinned task."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import compile_problem
from solvers.replan.search import replan_assignment
from tests.models.decision_problems import plans, problems
from tests.solvers.replan_checks import assert_pins_and_moves


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_moves_of_kept_tasks_stay_within_the_budget(data: st.DataObject) -> None:
    problem = data.draw(problems(max_agents=4, max_tasks=8))
    compiled = compile_problem(problem)
    previous = data.draw(plans(problem))
    budget = data.draw(st.integers(0, 3))
    placed = np.flatnonzero(previous >= 0).tolist()
    pinned = set(data.draw(st.lists(st.sampled_from(placed), max_size=2))) if placed else set()
    out = replan_assignment(compiled, previous, max_moves=budget, pinned=pinned, time_limit_s=1.0)
    assert_pins_and_moves(previous, out, pinned, budget)
    assert all(out.freed.values())  # every freed task says why


def test_a_feasible_plan_with_budget_zero_stays_put() -> None:
    from models import Agent, Problem, Task

    problem = Problem(
        resources=["cpu"],
        agents=[
            Agent(id="a", capacity={"cpu": 5}, cost_rate=5),
            Agent(id="b", capacity={"cpu": 5}),
        ],
        tasks=[Task(id=f"t{k}", demand={"cpu": 1}) for k in range(3)],
    )
    previous = np.array([0, 0, 0])
    out = replan_assignment(compile_problem(problem), previous, max_moves=0)
    assert out.assignment.tolist() == [0, 0, 0]
    two = replan_assignment(compile_problem(problem), previous, max_moves=2)
    assert sorted(two.assignment.tolist()) == [0, 1, 1]  # b is 5x cheaper: two moves spent
