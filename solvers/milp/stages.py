"""Which objective each solve of the model minimises: all weighted at once, or one
lexicographic stage after another with the earlier ones held at the value reached."""

from __future__ import annotations

import numpy as np

from models import CompiledProblem
from solvers.milp.model import MilpModel

__all__ = ["fix_stage", "is_lexicographic", "objective_names", "stage_objective", "stages"]


def objective_names(problem: CompiledProblem) -> tuple[str, ...]:
    spec = problem.objectives
    return spec.order if spec.mode == "lexicographic" else spec.active


def is_lexicographic(problem: CompiledProblem) -> bool:
    return problem.objectives.mode == "lexicographic" and len(problem.objectives.order) > 1


def stages(problem: CompiledProblem, model: MilpModel) -> list[tuple[str, ...]]:
    """One stage per modelled objective (lexicographic), else one stage for them all."""
    names = objective_names(problem)
    if not is_lexicographic(problem):
        return [names]
    return [(n,) for n in names if n in model.objectives] or [()]


def stage_objective(
    model: MilpModel, problem: CompiledProblem, names: tuple[str, ...]
) -> tuple[np.ndarray, float]:
    """The stage's objective as float64[n_cols] and the constant kept outside the model."""
    lexicographic = is_lexicographic(problem)
    vector, constant = np.zeros(model.n_cols), 0.0
    for name in names:
        if name in model.objectives:
            weight = 1.0 if lexicographic else problem.objectives.weight(name)
            objective = model.objectives[name]
            vector += weight * objective.dense(model.n_cols)
            constant += weight * objective.constant
    return vector, constant


def fix_stage(model: MilpModel, name: str, value: float) -> None:
    """Keep objective `name` at most at `value` in later stages (a little slack for the
    backend's feasibility tolerance)."""
    slack = 1e-6 * max(1.0, abs(value))
    objective = model.objectives[name]
    model.add_row(objective.columns, objective.coefs, -np.inf, value + slack, f"lex_{name}")
