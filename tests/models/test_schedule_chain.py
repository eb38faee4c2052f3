"""What each scheduled task waits for, and the critical path: a chain without slack whose
length is the makespan."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Problem, compile_problem, plan_from_array
from models.generators.workflow import generate_workflow_problem
from models.schedule_chain import critical_path
from models.schedule_check import derive_schedule


def test_a_chain_across_agents_waits_for_data_and_for_the_agent() -> None:
    # x on a (0-2) -> y on b after 3 data at bandwidth 2 (3.5-4.5); w on b first (0-4),
    # so y waits for its data (arrives 3.5) or b (free at 4): b binds, y starts at 4.
    doc = {
        "agents": [{"id": "a", "speed": 1.0}, {"id": "b", "speed": 1.0}],
        "tasks": [
            {"id": "x", "work": 2},
            {"id": "w", "work": 4},
            {"id": "y", "work": 1, "after": [{"task": "x", "data": 3}]},
            {"id": "z", "work": 1},
        ],
        "default_bandwidth": 2.0,
        "objectives": {"weights": {"makespan": 1.0}},
    }
    problem = compile_problem(Problem.model_validate(doc))
    plan = plan_from_array(problem, np.array([0, 1, 1, 0]), np.array([0.0, 0.0, 4.0, 3.0]))
    assert plan.schedule is not None
    waits = {t: s.waits_for for t, s in plan.schedule.items()}
    # z starts at 3 on a, idle after x (free at 2): it waits for nothing.
    assert waits == {"x": None, "w": None, "y": "w", "z": None}
    finish = {t: s.finish for t, s in plan.schedule.items()}
    assert critical_path(waits, finish) == ["w", "y"]
    # w after x on a; y alone on b starts when x's data arrives (2 + 3 / 2), z after y.
    plan = plan_from_array(problem, np.array([0, 0, 1, 1]), np.array([0.0, 2.0, 3.5, 4.5]))
    assert plan.schedule is not None
    waits = {t: s.waits_for for t, s in plan.schedule.items()}
    assert waits == {"x": None, "w": "x", "y": "x", "z": "y"}
    finish = {t: s.finish for t, s in plan.schedule.items()}
    assert critical_path(waits, finish) == ["x", "w"]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 40), agents=st.integers(2, 5))
def test_the_critical_path_has_no_slack_and_spans_the_makespan(
    seed: int, n: int, agents: int
) -> None:
    problem = compile_problem(generate_workflow_problem(n, agents, 1.0, seed))
    rng = np.random.default_rng(seed)
    assignment = rng.integers(0, agents, size=n)
    plan = plan_from_array(problem, assignment, derive_schedule(problem, assignment))
    assert plan.schedule is not None
    slots = plan.schedule
    path = critical_path(
        {t: s.waits_for for t, s in slots.items()}, {t: s.finish for t, s in slots.items()}
    )
    assert slots[path[-1]].finish == pytest.approx(max(s.finish for s in slots.values()))
    for before, after in itertools.pairwise(path):
        assert slots[after].waits_for == before
        assert slots[before].finish <= slots[after].start + 1e-6
    # The derived schedule starts every task as early as its inputs and its agent allow,
    # so a chain that waits for nothing at its head starts at 0: it spans the makespan.
    assert slots[path[0]].start == pytest.approx(0.0, abs=1e-6)
