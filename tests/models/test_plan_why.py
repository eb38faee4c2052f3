"""The report's Why section: binding resources and coded reasons for unassigned tasks."""

from __future__ import annotations

import numpy as np

from models import Agent, Problem, Task, compile_problem
from models.plan_why import plan_why


def test_why_names_binding_resources_and_reasons() -> None:
    problem = Problem(
        resources=["cpu"],
        agents=[
            Agent(id="a", capacity={"cpu": 3}),
            Agent(id="b", capacity={"cpu": 8}, capabilities=["gpu"], max_tasks=1),
        ],
        tasks=[
            Task(id="t0", demand={"cpu": 2}),
            Task(id="t1", demand={"cpu": 2}),
            Task(id="t2", demand={"cpu": 1}, requires=["gpu"]),
        ],
        allow_unassigned=True,
    )
    why = plan_why(problem, compile_problem(problem), np.array([0, -1, 1]))
    binding = {row.agent: row.binding for row in why.agents}
    assert binding == {"a": ["cpu"], "b": ["max_tasks"]}
    assert [row.task for row in why.unassigned] == ["t1"]
    assert why.unassigned[0].reasons == {"capacity": 1, "max_tasks": 1}
    assert any("cpu short by 1" in text for text in why.unassigned[0].examples)
