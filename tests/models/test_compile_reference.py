"""The blocked, lean compilation gives exactly the arrays of the plain whole-matrix one.

The reference functions below are the straightforward implementation compile_problem
and diagnose used before they were made lean for 100,000 x 2,000 (float64 whole-matrix
temporaries, a 3-D fit check, a per-task eligibility loop); every array must match
bit for bit, dtype included, on generated requests with pins, unknown capabilities,
oversized demand and explicit cost and usage matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from models import Problem, compile_problem
from models.diagnosis import _cheapest_eligible_usage, diagnose
from models.generators.instances import generate_attribute_problem


def _reference_duration_cost(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    speed = np.array([a.speed for a in problem.agents], dtype=np.float64)
    work = np.array([t.work for t in problem.tasks], dtype=np.float64)
    duration = (work[None, :] / speed[:, None]).astype(np.float32)
    if problem.cost is not None:
        return duration, np.asarray(problem.cost, dtype=np.float32)
    rate = np.array([a.cost_rate for a in problem.agents], dtype=np.float64)
    return duration, (duration * rate[:, None]).astype(np.float32)


def _reference_eligible(problem: Problem, usage: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    m, n = len(problem.agents), len(problem.tasks)
    agent_index = {a.id: i for i, a in enumerate(problem.agents)}
    caps = sorted({c for a in problem.agents for c in a.capabilities})
    cap_index = {c: k for k, c in enumerate(caps)}
    has = np.zeros((m, max(len(caps), 1)), dtype=bool)
    for i, agent in enumerate(problem.agents):
        for c in agent.capabilities:
            has[i, cap_index[c]] = True
    eligible = np.ones((m, n), dtype=bool)
    for j, task in enumerate(problem.tasks):
        for c in task.requires:
            if c in cap_index:
                eligible[:, j] &= has[:, cap_index[c]]
            else:
                eligible[:, j] = False
        if task.pinned_agent is not None:
            pinned = agent_index[task.pinned_agent]
            column = np.zeros(m, dtype=bool)
            column[pinned] = eligible[pinned, j]
            eligible[:, j] = column
    eligible &= np.all(usage <= capacity[:, None, :] + 1e-9, axis=2)
    return eligible


def _with_edits(problem: Problem, seed: int, explicit: str | None) -> Problem:
    """Pins, an unknown capability, oversized and exactly fitting demand, explicit matrices."""
    rng = np.random.default_rng(seed)
    doc: dict[str, Any] = problem.model_dump()
    m, n = len(doc["agents"]), len(doc["tasks"])
    for j in rng.choice(n, size=max(1, n // 10), replace=False):
        doc["tasks"][j]["pinned_agent"] = doc["agents"][int(rng.integers(m))]["id"]
    doc["tasks"][int(rng.integers(n))]["requires"] = ["no-agent-has-this"]
    big = max(a["capacity"][doc["resources"][0]] for a in doc["agents"])
    for j in rng.choice(n, size=max(1, n // 20), replace=False):
        doc["tasks"][j]["demand"][doc["resources"][0]] = round(big * rng.uniform(0.5, 1.2), 3)
    # A demand exactly equal to a capacity fits (the boundary of the fit check).
    exact = doc["tasks"][int(rng.integers(n))]
    exact.update(requires=[], pinned_agent=None)
    exact["demand"] = {r: doc["agents"][0]["capacity"].get(r, 0.0) for r in doc["resources"]}
    if explicit == "cost":
        doc["cost"] = rng.uniform(0, 100, (m, n)).round(3).tolist()
    elif explicit == "usage2":
        doc["usage"] = rng.uniform(0, big, (m, n)).round(3).tolist()
    elif explicit == "usage3":
        doc["usage"] = rng.uniform(0, big, (m, n, len(doc["resources"]))).round(3).tolist()
    return Problem.model_validate(doc)


_CASES = [
    (40, 5, 0, 1, None),
    (200, 17, 1, 2, None),
    (300, 30, 2, 3, "cost"),
    (120, 9, 3, 1, "usage2"),
    (150, 12, 4, 3, "usage3"),
    (3000, 70, 5, 2, None),  # several agent-row blocks
]


@pytest.mark.parametrize(("n_tasks", "n_agents", "seed", "dims", "explicit"), _CASES)
def test_compiled_arrays_equal_the_reference(
    n_tasks: int, n_agents: int, seed: int, dims: int, explicit: str | None
) -> None:
    plain = generate_attribute_problem(n_tasks, n_agents, seed=seed, n_dims=dims)
    for problem in (plain, _with_edits(plain, seed, explicit)):
        compiled = compile_problem(problem)
        duration, cost = _reference_duration_cost(problem)
        eligible = _reference_eligible(problem, compiled.usage, compiled.capacity)
        for got, want in ((compiled.duration, duration), (compiled.cost, cost)):
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.array_equal(got, want)
        assert compiled.eligible.dtype == np.bool_
        assert np.array_equal(compiled.eligible, eligible)
        # The edits make some pairs and at least one task ineligible, so the check bites.
        if problem is not plain:
            assert not compiled.eligible.any(axis=0).all()


@pytest.mark.parametrize(("n_tasks", "n_agents", "seed", "dims", "explicit"), _CASES)
def test_diagnosis_matches_the_reference(
    n_tasks: int, n_agents: int, seed: int, dims: int, explicit: str | None
) -> None:
    problem = _with_edits(
        generate_attribute_problem(n_tasks, n_agents, seed=seed, n_dims=dims), seed, explicit
    )
    compiled = compile_problem(problem)
    masked = np.where(compiled.eligible[:, :, None], compiled.usage, np.inf)
    want = masked.min(axis=0)
    got = _cheapest_eligible_usage(compiled, np.any(compiled.eligible, axis=0))
    assert got.dtype == want.dtype and np.array_equal(got, want)
    blocked = [problem.tasks[j].id for j in range(n_tasks) if not compiled.eligible[:, j].any()]
    reasons = diagnose(problem, compiled)
    named = [r.split()[1].rstrip(":") for r in reasons if r.startswith("task ")]
    assert named == blocked[:10]
