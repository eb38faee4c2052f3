"""Read a plan a user brings and score it with coded violations (the `evaluate` answer).

Unknown task or agent ids are bad input (an `InputError` naming the field); broken
hard constraints are violations with a code: capacity, capability, pinned,
max_tasks, anti_affinity, co_location, unassigned, unknown_agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from models.compiled import CompiledProblem
from models.errors import InputError
from models.evaluation import Evaluation, Violation, evaluate_plan
from models.plan import Plan
from models.schema import Problem

__all__ = ["CodedEvaluation", "coded_violations", "evaluate_document", "parse_plan"]


def parse_plan(compiled: CompiledProblem, document: object, field: str = "plan") -> np.ndarray:
    """A plan document (`solve --out` format) -> int64[n]; unknown ids raise InputError."""
    if isinstance(document, Plan):
        plan = document
    else:
        if not isinstance(document, dict):
            raise InputError('use an object {"assignments": {task: agent}}', field=field)
        try:
            plan = Plan.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            raise InputError(str(first.get("msg")), field=f"{field}.{loc}") from exc
    agent_index = {a: i for i, a in enumerate(compiled.agent_ids)}
    task_index = {t: j for j, t in enumerate(compiled.task_ids)}
    out = np.full(compiled.n_tasks, -1, dtype=np.int64)
    for task, agent in plan.assignments.items():
        if task not in task_index:
            raise InputError(
                f"unknown task {task!r}; use a task id of the problem", field=f"{field}.assignments"
            )
        if agent not in agent_index:
            raise InputError(
                f"unknown agent {agent!r} for task {task!r}; use an agent id of the problem",
                field=f"{field}.assignments.{task}",
            )
        out[task_index[task]] = agent_index[agent]
    for task in plan.unassigned:
        if task not in task_index:
            raise InputError(f"unknown task {task!r}", field=f"{field}.unassigned")
        if task in plan.assignments:
            raise InputError(
                f"task {task!r} is both assigned and unassigned; keep one",
                field=f"{field}.unassigned",
            )
    return out


@dataclass
class CodedEvaluation:
    """An evaluation whose violations carry specific codes."""

    evaluation: Evaluation
    violations: list[Violation]

    @property
    def feasible(self) -> bool:
        return not self.violations

    def to_dict(self, problem: CompiledProblem, assignment: np.ndarray) -> dict[str, Any]:
        ev = self.evaluation
        counts = np.bincount(assignment[assignment >= 0], minlength=problem.n_agents)
        loads = [
            {
                "agent": agent,
                "tasks": int(counts[i]),
                "load_s": float(ev.agent_load_s[i]),
                "utilisation": float(ev.utilisation[i]),
                "usage": {r: float(ev.agent_usage[i, k]) for k, r in enumerate(problem.resources)},
            }
            for i, agent in enumerate(problem.agent_ids)
        ]
        return {
            "feasible": self.feasible,
            "score": ev.score,
            "objectives": dict(ev.objectives),
            "violations": [
                {"code": v.kind, "message": v.message, "task": v.task, "agent": v.agent}
                for v in self.violations
            ],
            "n_unassigned": ev.n_unassigned,
            "jain_fairness": ev.jain_fairness,
            "loads": loads,
        }


def coded_violations(
    problem: Problem, compiled: CompiledProblem, assignment: np.ndarray, evaluation: Evaluation
) -> list[Violation]:
    """evaluate_plan's violations with 'ineligible' split into capability/pinned/capacity."""
    out: list[Violation] = []
    for v in evaluation.violations:
        if v.kind != "ineligible" or v.task is None or v.agent is None:
            out.append(v)
            continue
        out.extend(_why_ineligible(problem, compiled, v.task, v.agent))
    return out


def _why_ineligible(
    problem: Problem, compiled: CompiledProblem, task_id: str, agent_id: str
) -> list[Violation]:
    j = compiled.task_ids.index(task_id)
    i = compiled.agent_ids.index(agent_id)
    task, agent = problem.tasks[j], problem.agents[i]
    found: list[Violation] = []
    for cap in task.requires:
        if cap not in agent.capabilities:
            found.append(
                Violation(
                    "capability",
                    f"task {task_id} is on agent {agent_id}: capability {cap} missing",
                    task=task_id,
                    agent=agent_id,
                )
            )
    if task.pinned_agent is not None and task.pinned_agent != agent_id:
        found.append(
            Violation(
                "pinned",
                f"task {task_id} is pinned to agent {task.pinned_agent}, not {agent_id}",
                task=task_id,
                agent=agent_id,
            )
        )
    if not found:
        found.append(
            Violation(
                "capacity",
                f"task {task_id} alone needs more than agent {agent_id}'s whole capacity",
                task=task_id,
                agent=agent_id,
            )
        )
    return found


def evaluate_document(
    problem: Problem, compiled: CompiledProblem, document: object, field: str = "plan"
) -> tuple[np.ndarray, CodedEvaluation]:
    """Parse a plan document and evaluate it with coded violations."""
    assignment = parse_plan(compiled, document, field)
    evaluation = evaluate_plan(compiled, assignment)
    return assignment, CodedEvaluation(
        evaluation, coded_violations(problem, compiled, assignment, evaluation)
    )
