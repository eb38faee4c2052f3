"""Re-plan from a previous plan: map it onto today's problem, keep what still fits,
move at most `max_moves` of the rest, and return the new plan with its diff.

The previous plan may name agents that are gone (their tasks become free) and
tasks that are gone (ignored); `pinned` tasks stay where the previous plan put them.
On a topology the plan's traffic must fit every link (the evaluator judges it); when
no plan within the budget and pins is found that fits, `notes` say by how much the
re-plan falls short, in the words a batch solve uses.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models import InputError, Plan, Problem, compile_problem, plan_from_array
from models.compiled import CompiledProblem
from models.evaluation import Evaluation
from models.plan_checks import coded_violations
from models.plan_diff import diff_plans
from solvers.replan.bandwidth import overloads_a_link
from solvers.replan.search import replan_assignment

__all__ = ["ReplanRequest", "replan", "split_replan_fields"]

#: Request-document fields that turn an allocation into a re-plan.
REPLAN_FIELDS = ("previous_plan", "previous_job", "max_moves", "pinned", "dry_run")


class ReplanRequest(BaseModel):
    """How to re-plan: from which plan (or job), with which move budget and pins."""

    model_config = ConfigDict(extra="forbid")

    previous_plan: Plan | None = None
    previous_job: str | None = Field(default=None, min_length=1, max_length=200)
    max_moves: int | None = Field(default=None, ge=0, description="Moves of kept tasks allowed.")
    pinned: list[str] = Field(default_factory=list, description="Tasks that must not move.")
    dry_run: bool = Field(default=False, description="Return the diff without storing a plan.")


def split_replan_fields(document: object) -> tuple[object, ReplanRequest | None]:
    """The document without re-plan fields, and those fields (None when there are none)."""
    if not isinstance(document, dict) or not any(k in document for k in REPLAN_FIELDS):
        return document, None
    rest = {k: v for k, v in document.items() if k not in REPLAN_FIELDS}
    try:
        request = ReplanRequest.model_validate(
            {k: document[k] for k in REPLAN_FIELDS if k in document}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InputError(message, field=loc) from exc
    return rest, request


def map_previous(
    compiled: CompiledProblem, plan: Plan
) -> tuple[np.ndarray, dict[int, str], list[str]]:
    """Previous plan -> int64[n] on today's problem; tasks on vanished agents are freed."""
    agent_index = {a: i for i, a in enumerate(compiled.agent_ids)}
    task_index = {t: j for j, t in enumerate(compiled.task_ids)}
    previous = np.full(compiled.n_tasks, -1, dtype=np.int64)
    freed: dict[int, str] = {}
    gone_tasks: list[str] = []
    for task, agent in plan.assignments.items():
        j = task_index.get(task)
        if j is None:
            gone_tasks.append(task)
        elif agent in agent_index:
            previous[j] = agent_index[agent]
        else:
            freed[j] = f"agent {agent} is gone"
    return previous, freed, gone_tasks


def replan(
    problem: Problem,
    previous_plan: Plan,
    *,
    max_moves: int | None = None,
    pinned: list[str] | None = None,
    time_limit_s: float = 2.0,
    compiled: CompiledProblem | None = None,
) -> dict[str, Any]:
    """The new plan, its score and violations, and its diff from the previous plan."""
    start = time.perf_counter()
    compiled = compiled or compile_problem(problem)
    previous, freed, gone_tasks = map_previous(compiled, previous_plan)
    task_index = {t: j for j, t in enumerate(compiled.task_ids)}
    pins: set[int] = set()
    for task in pinned or []:
        if task not in task_index:
            raise InputError(f"unknown task {task!r}; pin tasks of the problem", field="pinned")
        if previous[task_index[task]] < 0:
            raise InputError(
                f"task {task!r} has no agent in the previous plan to stay on", field="pinned"
            )
        pins.add(task_index[task])
    outcome = replan_assignment(
        compiled,
        previous,
        max_moves=max_moves,
        pinned=pins,
        time_limit_s=max(time_limit_s - (time.perf_counter() - start), 0.05),
        freed=freed,
    )
    ev = outcome.evaluation
    violations = coded_violations(problem, compiled, outcome.assignment, ev)
    ids = compiled.task_ids
    return {
        "plan": plan_from_array(compiled, outcome.assignment).model_dump(exclude_none=True),
        "score": ev.score,
        "objectives": dict(ev.objectives),
        "feasible": not violations,
        "violations": [
            {"code": v.kind, "message": v.message, "task": v.task, "agent": v.agent}
            for v in violations
        ],
        "freed": {ids[j]: reason for j, reason in sorted(outcome.freed.items())},
        "gone_tasks": gone_tasks,
        "moves_used": len(outcome.moved_kept),
        "max_moves": max_moves,
        "pinned": sorted(pinned or []),
        "stopped": outcome.stopped,
        "notes": [*outcome.notes, *_bandwidth_shortfall(ev, max_moves)],
        "wall_time_s": time.perf_counter() - start,
        "diff": diff_plans(compiled, previous, outcome.assignment, eval_b=ev),
    }


def _bandwidth_shortfall(ev: Evaluation, max_moves: int | None) -> list[str]:
    """When the re-plan overloads a link and breaks nothing else: by how much it falls
    short (the portfolio's diagnosis: the least congestion any routing reaches)."""
    if not overloads_a_link(ev):
        return []
    # Imported here: the portfolio package pulls in every engine, which a re-plan that
    # fits (or a problem without a topology) never needs.
    from solvers.portfolio.bandwidth_checks import bandwidth_diagnosis

    within = "any number of" if max_moves is None else f"at most {max_moves}"
    return [
        f"with {within} move(s) of kept tasks, {line}"
        for line in bandwidth_diagnosis({"the re-plan": ev})
    ]
