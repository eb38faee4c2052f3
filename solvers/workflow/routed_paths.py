"""The workflow engine's plan on a topology whose links carry the tasks' communication.

The engine schedules with transfer delays on lowest-latency paths. When its plan's
communication overloads a link, the bandwidth repair moves communicating tasks first;
when the traffic then has to be routed around full links, the transfers take the routed
paths (`models.evaluation.with_plan_routes`) and the plan is re-timed on those delays,
in the engine's own priority order. `evaluate_plan` checks the schedule against exactly
these delays.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem
from models.evaluation import with_plan_routes
from solvers.shared.bandwidth_repair import repair_bandwidth
from solvers.workflow.decode import decode
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import Schedule

__all__ = ["on_routed_paths"]

#: Seconds the bandwidth repair of one schedule may take.
_REPAIR_S = 0.5


def on_routed_paths(
    problem: CompiledProblem, schedule: Schedule, *, repair_s: float = _REPAIR_S
) -> Schedule:
    """`schedule` repaired for bandwidth (for at most `repair_s` seconds) and re-timed on
    its routed paths; itself when the problem has no network or its traffic fits on the
    lowest-latency paths."""
    if problem.network is None:
        return schedule
    agent = np.array(schedule.agent, dtype=np.int64)
    repaired = repair_bandwidth(problem, agent, time_limit_s=repair_s).assignment
    if np.any(repaired < 0):  # leaving a task out breaks its successors' inputs
        repaired = agent
    routed = with_plan_routes(problem, repaired)
    if routed is problem and np.array_equal(repaired, agent):
        return schedule
    return decode(build_graph(routed), list(schedule.order), repaired.tolist())
