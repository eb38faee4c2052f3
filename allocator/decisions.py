"""Decision questions on a plan a user brings: evaluate, explain, recommend, diff.

Document in, JSON-ready dict out; shared by the CLI, the HTTP routes and the MCP
tools so the three faces answer alike. Bad documents raise `InputError` naming the field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from models import InputError, Problem, compile_problem
from models.compiled import CompiledProblem
from models.explanation import explain_plan
from models.plan_checks import evaluate_document, parse_plan
from models.plan_diff import diff_plans
from models.recommendation import Recommender
from models.schema import Communication, Task

_Model = TypeVar("_Model", bound=BaseModel)

#: Tasks one explain call covers; beyond it the caller names the tasks it wants.
MAX_EXPLAINED_TASKS = 2_000

__all__ = ["diff_request", "evaluate_request", "explain_request", "parse_task", "recommend_request"]


def evaluate_request(
    problem: Problem, plan: object, compiled: CompiledProblem | None = None
) -> dict[str, Any]:
    """Score a plan: objectives, weighted score, coded violations, loads; `feasible` says ok."""
    compiled = compiled or compile_problem(problem)
    assignment, coded = evaluate_document(problem, compiled, plan)
    return coded.to_dict(compiled, assignment)


def explain_request(
    problem: Problem,
    plan: object,
    tasks: list[str] | None = None,
    alternatives: int = 3,
    compiled: CompiledProblem | None = None,
) -> dict[str, Any]:
    """Per task: agent, contributions, best alternatives, blockers; per agent: binding, slack."""
    if alternatives < 0:
        raise InputError(f"is {alternatives}; use 0 or more", field="alternatives")
    if len(tasks or problem.tasks) > MAX_EXPLAINED_TASKS:
        raise InputError(
            f"would explain {len(tasks or problem.tasks)} tasks; name at most "
            f"{MAX_EXPLAINED_TASKS} (the answer grows with tasks x agents)",
            field="tasks",
        )
    compiled = compiled or compile_problem(problem)
    assignment = parse_plan(compiled, plan)
    return explain_plan(problem, assignment, tasks or None, alternatives, compiled)


def parse_task(document: object, field: str = "task") -> tuple[Task, list[Communication]]:
    """A task document, or {"task": ..., "communication": [...]} carrying its traffic."""
    if not isinstance(document, dict):
        raise InputError("use a task object with at least an id", field=field)
    body = dict(document)
    raw_comm = body.pop("communication", None) if "task" in body else None
    task = _validated(Task, body.get("task", body), field)
    if raw_comm is not None and not isinstance(raw_comm, list):
        raise InputError('use a list of {"a", "b", "volume"}', field="communication")
    comm = [
        _validated(Communication, c, f"communication.{k}") for k, c in enumerate(raw_comm or [])
    ]
    return task, comm


def _validated(model: type[_Model], value: object, field: str) -> _Model:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InputError(message, field=f"{field}.{loc}" if loc else field) from exc


def recommend_request(
    problem: Problem,
    plan: object,
    *,
    task: object | None = None,
    agent: str | None = None,
    top: int | None = None,
    compiled: CompiledProblem | None = None,
) -> dict[str, Any]:
    """Ranked agents for a new task, or (with `agent`) ranked tasks for one agent."""
    if (task is None) == (agent is None):
        raise InputError("give exactly one of task or agent", field="task")
    if top is not None and top < 1:
        raise InputError(f"is {top}; use 1 or more", field="top")
    compiled = compiled or compile_problem(problem)
    recommender = Recommender(problem, parse_plan(compiled, plan), compiled)
    if agent is not None:
        recs = recommender.recommend_for_agent(agent, top)
        return {"agent": agent, "recommendations": [r.to_dict() for r in recs]}
    new_task, comm = parse_task(task)
    recs = recommender.recommend(new_task, top, comm)
    return {
        "task": new_task.id,
        "recommendations": [{k: v for k, v in r.to_dict().items() if k != "task"} for r in recs],
    }


def diff_request(
    problem: Problem, plan_a: object, plan_b: object, compiled: CompiledProblem | None = None
) -> dict[str, Any]:
    """Tasks moved, added and dropped from A to B, score and objective deltas, load changes."""
    compiled = compiled or compile_problem(problem)
    a = parse_plan(compiled, plan_a, "plan_a")
    b = parse_plan(compiled, plan_b, "plan_b")
    return diff_plans(compiled, a, b)
