"""Pick the plan by the request's policy: best weighted score, lexicographic, or knee.

The non-dominated filter is `solvers.shared.pareto.non_dominated`.
Cost: O(k^2 * p) for k candidate plans and p objectives (fronts are small).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import CompiledProblem, Evaluation
from solvers.shared.pareto import non_dominated

__all__ = ["Candidate", "choose", "knee_index"]


@dataclass
class Candidate:
    """A verified plan and where it came from."""

    solver: str
    assignment: np.ndarray
    evaluation: Evaluation
    found_at_s: float = float("inf")  # ties go to the solver that found the plan first
    start: np.ndarray | None = None  # workflows: the start times the solver scheduled


def knee_index(points: np.ndarray) -> int:
    """The knee: the point closest to the ideal after normalising each objective."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    norm = (points - lo) / span
    return int(np.argmin(np.linalg.norm(norm, axis=1)))


def choose(problem: CompiledProblem, candidates: list[Candidate]) -> tuple[Candidate, str]:
    """The chosen candidate and a one-line reason (candidates must be verified)."""
    spec = problem.objectives
    if spec.mode == "lexicographic":
        best = min(candidates, key=lambda c: (c.evaluation.lex_key(spec.order), c.found_at_s))
        key = ", ".join(f"{n}={best.evaluation.objectives[n]:.6g}" for n in spec.order)
        return best, f"lexicographically best over ({', '.join(spec.order)}): {key}"
    if spec.mode == "pareto":
        points = np.array([[c.evaluation.objectives[n] for n in spec.order] for c in candidates])
        front = non_dominated(points)
        k = front[knee_index(points[front])]
        return (
            candidates[k],
            f"knee point of the merged Pareto front ({len(front)} plans) over "
            f"({', '.join(spec.order)}): closest to the ideal after normalisation",
        )
    best = min(candidates, key=lambda c: (_rounded(c.evaluation.score), c.found_at_s))
    return best, f"lowest weighted score {best.evaluation.score:.6g} among verified plans"


def _rounded(score: float) -> float:
    """Scores equal to 1e-9 relative count as a tie (float noise across solvers)."""
    if score == 0 or not np.isfinite(score):
        return score
    digits = 9 - int(np.floor(np.log10(abs(score))))
    return round(score, digits)
