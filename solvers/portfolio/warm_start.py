"""A plan to start from: the best plan an earlier attempt of the same job left behind.

A job whose worker was killed is run again; the plan that worker streamed is handed
to the new run, verified here. The solvers get it as a hint (like a plan another
solver found earlier in the run), and it stands in the report as the run
`previous_attempt`, so the plan chosen is never worse than it.
"""

from __future__ import annotations

import numpy as np

from models import Plan, evaluate_plan
from models.compiled import CompiledProblem
from models.plan import plan_to_array
from solvers.base import SolveResult, SolveStatus, StopReason

__all__ = ["WARM_START_NAME", "warm_start_result"]

#: The report's name for the run that stands for the earlier attempt's plan.
WARM_START_NAME = "previous_attempt"


def warm_start_result(compiled: CompiledProblem, plan: Plan) -> SolveResult | None:
    """The plan as a verified result; None when it no longer fits the problem.

    No time of its own: `time_to_best_s` stays None, so a solver that finds a plan as
    good is chosen over it (ties go to the plan found first).
    """
    try:
        assignment = plan_to_array(compiled, plan).astype(np.int64)
    except ValueError:  # names a task or agent the problem does not have
        return None
    evaluation = evaluate_plan(compiled, assignment)
    if not evaluation.feasible or not np.isfinite(evaluation.score):
        return None
    return SolveResult(
        solver=WARM_START_NAME,
        status=SolveStatus.FEASIBLE,
        stop_reason=StopReason.PREVIOUS_ATTEMPT,
        assignment=assignment,
        objective=float(evaluation.score),
        started_at_s=0.0,
        notes=["the best plan of this job's earlier attempt; the solvers started from it"],
    )
