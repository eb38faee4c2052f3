"""Write a problem's MILP model as LP or MPS for use with another solver."""

from __future__ import annotations

from pathlib import Path

from models import Problem, compile_problem

__all__ = ["export_problem"]


def export_problem(problem: Problem, path: Path, fmt: str) -> None:
    from solvers.milp.solver import export_model

    export_model(compile_problem(problem), path, fmt)
