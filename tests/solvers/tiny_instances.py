"""Tiny instances with brute-force optima, shared by the conformance and property tests."""

from __future__ import annotations

import itertools

import numpy as np

from models import CompiledProblem, Problem, compile_problem, evaluate_plan


def brute_force_optimum(compiled: CompiledProblem) -> float | None:
    """Best feasible weighted score by enumeration (None: infeasible). m^n plans."""
    m, n = compiled.n_agents, compiled.n_tasks
    choices = list(range(m)) + ([-1] if compiled.allow_unassigned else [])
    best: float | None = None
    for combo in itertools.product(choices, repeat=n):
        ev = evaluate_plan(compiled, np.array(combo))
        if ev.feasible and (best is None or ev.score < best - 1e-9):
            best = ev.score
    return best


def tiny_gap(seed: int, m: int = 3, n: int = 6) -> Problem:
    rng = np.random.default_rng(seed)
    usage = rng.integers(5, 26, size=(m, n))
    return Problem.model_validate(
        {
            "name": f"tiny-gap-{seed}",
            "resources": ["capacity"],
            "agents": [
                {"id": f"a{i}", "capacity": {"capacity": float(0.8 * usage[i].sum() / m) + 10}}
                for i in range(m)
            ],
            "tasks": [{"id": f"t{j}"} for j in range(n)],
            "cost": rng.integers(10, 51, size=(m, n)).tolist(),
            "usage": usage.tolist(),
        }
    )


def tiny_attributes() -> Problem:
    """Capabilities, a pinned task, anti-affinity, co-location and two objectives."""
    return Problem.model_validate(
        {
            "name": "tiny-attributes",
            "resources": ["cpu", "mem"],
            "agents": [
                {"id": "cpu1", "capacity": {"cpu": 4, "mem": 8}, "cost_rate": 1.0},
                {"id": "cpu2", "capacity": {"cpu": 4, "mem": 8}, "cost_rate": 1.2, "speed": 1.5},
                {
                    "id": "gpu",
                    "capacity": {"cpu": 8, "mem": 16},
                    "cost_rate": 4.0,
                    "capabilities": ["gpu"],
                },
            ],
            "tasks": [
                {"id": "train", "demand": {"cpu": 2, "mem": 6}, "work": 4, "requires": ["gpu"]},
                {"id": "web1", "demand": {"cpu": 1, "mem": 1}, "work": 2},
                {"id": "web2", "demand": {"cpu": 1, "mem": 1}, "work": 2},
                {"id": "etl", "demand": {"cpu": 2, "mem": 4}, "work": 3, "priority": "high"},
                {"id": "etl-sink", "demand": {"cpu": 1, "mem": 2}, "work": 1},
                {"id": "report", "demand": {"cpu": 1, "mem": 1}, "work": 1, "pinned_agent": "cpu1"},
            ],
            "groups": [
                {"kind": "anti_affinity", "tasks": ["web1", "web2"]},
                {"kind": "co_location", "tasks": ["etl", "etl-sink"]},
            ],
            "objectives": {"weights": {"cost": 1.0, "makespan": 0.5}},
        }
    )


def tiny_infeasible() -> Problem:
    """Total capacity suffices but the items do not pack: only a search can tell."""
    return Problem.model_validate(
        {
            "name": "tiny-infeasible",
            "agents": [{"id": "a", "capacity": {"cpu": 3}}, {"id": "b", "capacity": {"cpu": 3}}],
            "tasks": [{"id": f"t{j}", "demand": {"cpu": 2}} for j in range(3)],
        }
    )


def compiled(problem: Problem) -> CompiledProblem:
    return compile_problem(problem)


def worst_fit_plan(compiled: CompiledProblem) -> np.ndarray:
    """Each task, largest first, on the agent with the most room left (first resource):
    feasible on loose enough GAPs and blind to cost, so many improving moves start there."""
    usage, room = compiled.usage[:, :, 0], compiled.capacity[:, 0].astype(np.float64).copy()
    plan = np.full(compiled.n_tasks, -1, dtype=np.int32)
    for task in np.argsort(-usage.max(axis=0)):
        agent = int(np.argmax(room - usage[:, task]))
        plan[task], room[agent] = agent, room[agent] - usage[agent, task]
    return plan
