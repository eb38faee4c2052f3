"""The array model as a PuLP problem: what CBC reads, and what LP/MPS export writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pulp

from solvers.milp.model import MilpModel

__all__ = ["EXPORT_FORMATS", "to_pulp", "write_model"]

EXPORT_FORMATS = ("lp", "mps")


def to_pulp(
    model: MilpModel, objective: np.ndarray
) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """A minimisation of `objective` (float64[n_cols]) over the model; its columns in order."""
    prob = pulp.LpProblem(model.name, pulp.LpMinimize)
    columns = [
        prob.add_variable(
            name,
            low,
            None if np.isinf(up) else up,
            pulp.LpBinary if binary else pulp.LpContinuous,
        )
        for name, low, up, binary in zip(
            model.col_names, model.col_lower, model.col_upper, model.col_binary, strict=True
        )
    ]
    for (cols, coefs), low, up, name in zip(
        model.entries, model.row_lower, model.row_upper, model.row_names, strict=True
    ):
        sense, rhs = _sense_and_rhs(low, up, name)
        expr = _expression(columns, cols, coefs)
        prob.addConstraint(pulp.LpConstraint(expr, sense=sense, rhs=rhs), name)
    nonzero = np.flatnonzero(objective)
    prob.setObjective(_expression(columns, nonzero, objective[nonzero]))
    return prob, columns


def write_model(model: MilpModel, objective: np.ndarray, path: Path, fmt: str) -> None:
    """Write the model as LP or MPS (fmt is one of EXPORT_FORMATS)."""
    prob, _ = to_pulp(model, objective)
    if fmt == "lp":
        prob.writeLP(str(path))
    else:
        prob.writeMPS(str(path))


def _expression(
    columns: list[pulp.LpVariable], indices: np.ndarray, coefs: np.ndarray
) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(
        [(columns[k], c) for k, c in zip(indices.tolist(), coefs.tolist(), strict=True)]
    )


def _sense_and_rhs(lower: float, upper: float, name: str) -> tuple[int, float]:
    # The model makes only one-sided rows and equalities.
    if lower == upper:
        return pulp.LpConstraintEQ, upper
    if np.isinf(lower):
        return pulp.LpConstraintLE, upper
    if np.isinf(upper):
        return pulp.LpConstraintGE, lower
    raise ValueError(f"row {name} has two finite sides; the model makes none")
