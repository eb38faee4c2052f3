"""Report and progress types re-exported for the faces (api never imports solvers)."""

from __future__ import annotations

from solvers.portfolio import ProgressEvent
from solvers.registry import SOLVER_NAMES
from solvers.report import ComparisonReport, SolverRun

__all__ = ["SOLVER_NAMES", "ComparisonReport", "ProgressEvent", "SolverRun"]
