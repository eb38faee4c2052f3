"""What changed between two plans of one problem: moves, additions, drops, objectives, loads."""

from __future__ import annotations

from typing import Any

import numpy as np

from models.compiled import CompiledProblem
from models.evaluation import Evaluation, evaluate_plan

__all__ = ["diff_plans"]


def diff_plans(
    problem: CompiledProblem,
    plan_a: np.ndarray,
    plan_b: np.ndarray,
    eval_a: Evaluation | None = None,
    eval_b: Evaluation | None = None,
) -> dict[str, Any]:
    """Tasks moved/added/dropped from A to B, objective and score deltas (B - A), load changes."""
    a = np.asarray(plan_a, dtype=np.int64)
    b = np.asarray(plan_b, dtype=np.int64)
    ev_a = eval_a or evaluate_plan(problem, a)
    ev_b = eval_b or evaluate_plan(problem, b)
    tasks, agents = problem.task_ids, problem.agent_ids
    moved = np.flatnonzero((a >= 0) & (b >= 0) & (a != b))
    added = np.flatnonzero((a < 0) & (b >= 0))
    dropped = np.flatnonzero((a >= 0) & (b < 0))
    m = problem.n_agents
    counts_a = np.bincount(a[a >= 0], minlength=m)
    counts_b = np.bincount(b[b >= 0], minlength=m)
    touched = sorted(
        set(a[moved].tolist())
        | set(b[moved].tolist())
        | set(b[added].tolist())
        | set(a[dropped].tolist())
    )
    return {
        "moved": [{"task": tasks[j], "from": agents[a[j]], "to": agents[b[j]]} for j in moved],
        "added": [{"task": tasks[j], "to": agents[b[j]]} for j in added],
        "dropped": [{"task": tasks[j], "from": agents[a[j]]} for j in dropped],
        "n_changed": int(len(moved) + len(added) + len(dropped)),
        "score_a": ev_a.score,
        "score_b": ev_b.score,
        "score_delta": ev_b.score - ev_a.score,
        "objectives_delta": {
            name: ev_b.objectives[name] - ev_a.objectives[name] for name in ev_a.objectives
        },
        "agents": {
            agents[i]: {
                "tasks_delta": int(counts_b[i] - counts_a[i]),
                "load_s_delta": float(ev_b.agent_load_s[i] - ev_a.agent_load_s[i]),
                "usage_delta": {
                    r: float(ev_b.agent_usage[i, k] - ev_a.agent_usage[i, k])
                    for k, r in enumerate(problem.resources)
                },
            }
            for i in touched
        },
    }
