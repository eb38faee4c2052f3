"""Hypothesis strategies: small random requests that exercise every objective and constraint."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from models import OBJECTIVE_NAMES, Problem, Task, compile_problem, evaluate_plan
from models.evaluation import Evaluation

PRIORITIES = ["critical", "high", "normal", "low"]
CAPS = ["gpu", "quantum"]


@st.composite
def problems(draw: st.DrawFn, max_agents: int = 5, max_tasks: int = 9) -> Problem:
    m = draw(st.integers(1, max_agents))
    n = draw(st.integers(2, max_tasks))
    nodes = [{"id": f"n{k}", "x": float(k), "y": 0.0} for k in range(3)]
    links = [{"a": "n0", "b": "n1", "latency_ms": 2.0}, {"a": "n1", "b": "n2", "latency_ms": 3.5}]
    agents = [
        {
            "id": f"a{i}",
            "capacity": {
                "cpu": draw(st.sampled_from([2.0, 3.5, 6.0, 10.0])),
                "mem": draw(st.sampled_from([0.0, 4.0, 8.0])),
            },
            "speed": draw(st.sampled_from([0.5, 1.0, 1.7, 3.0])),
            "cost_rate": draw(st.sampled_from([0.3, 1.0, 2.2])),
            "capabilities": draw(st.lists(st.sampled_from(CAPS), max_size=2, unique=True)),
            "max_tasks": draw(st.one_of(st.none(), st.integers(1, 4))),
            "node": f"n{draw(st.integers(0, 2))}",
        }
        for i in range(m)
    ]
    tasks = [draw(tasks_strategy(f"t{j}", m)) for j in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=6))
    groups: list[dict[str, Any]] = []
    if n >= 3 and draw(st.booleans()):
        groups.append({"kind": "anti_affinity", "tasks": ["t0", "t1"]})
    if n >= 4 and draw(st.booleans()):
        groups.append({"kind": "co_location", "tasks": ["t2", "t3"]})
    weights = {
        name: draw(st.sampled_from([0.0, 0.01, 0.5, 1.0, 3.0]))
        for name in OBJECTIVE_NAMES
        if name != "unassigned"
    }
    weights["cost"] = max(weights["cost"], 0.1)
    return Problem.model_validate(
        {
            "resources": ["cpu", "mem"],
            "agents": agents,
            "tasks": tasks,
            "communication": [
                {"a": f"t{x}", "b": f"t{y}", "volume": 1.0 + x + 2 * y} for x, y in pairs
            ],
            "groups": groups,
            "topology": {"nodes": nodes, "links": links},
            "objectives": draw(_objectives(weights)),
            "allow_unassigned": draw(st.booleans()),
            "unassigned_penalty": draw(st.sampled_from([0.0, 7.0, 100.0])),
        }
    )


def _objectives(weights: dict[str, float]) -> st.SearchStrategy[dict[str, Any]]:
    """Weighted mostly; lexicographic and Pareto score with unit weights on their names."""
    names = list(OBJECTIVE_NAMES)
    return st.one_of(
        st.just({"mode": "weighted", "weights": weights}),
        st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True).map(
            lambda order: {"mode": "lexicographic", "order": order}
        ),
        st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True).map(
            lambda front: {"mode": "pareto", "pareto": front}
        ),
    )


@st.composite
def tasks_strategy(draw: st.DrawFn, task_id: str, m: int) -> dict[str, Any]:
    return {
        "id": task_id,
        "demand": {
            "cpu": draw(st.sampled_from([0.0, 0.5, 1.0, 2.5])),
            "mem": draw(st.sampled_from([0.0, 1.0, 3.0])),
        },
        "work": draw(st.sampled_from([0.0, 0.7, 1.0, 4.0, 9.5])),
        "priority": draw(st.sampled_from(PRIORITIES)),
        "deadline": draw(st.one_of(st.none(), st.sampled_from([0.5, 2.0, 6.0]))),
        "requires": draw(st.lists(st.sampled_from(CAPS), max_size=1)),
        "weight": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "current_agent": draw(st.one_of(st.none(), st.sampled_from([f"a{i}" for i in range(m)]))),
    }


def plans(problem: Problem) -> st.SearchStrategy[np.ndarray]:
    m, n = len(problem.agents), len(problem.tasks)
    return st.lists(st.integers(-1, m - 1), min_size=n, max_size=n).map(
        lambda xs: np.array(xs, dtype=np.int64)
    )


def evaluate(problem: Problem, plan: np.ndarray) -> Evaluation:
    return evaluate_plan(compile_problem(problem), plan)


def close(mine: float, a: float, b: float) -> bool:
    """The 1e-9 relative rule: against the size of the two evaluated values."""
    return abs(mine - (b - a)) <= 1e-9 * max(1.0, abs(a), abs(b))


def new_task(task: dict[str, Any]) -> Task:
    return Task.model_validate(task)
