"""CP-SAT over a small workflow: minimum makespan, with a lower bound that holds for the
real (unrounded) durations (the model is in `cpsat_model`).

Before the search the makespan is bounded below by the longest chain of fastest
durations (no transfer) and by a load bound (total work over total speed when every
agent may take every task); the incumbent bounds it above. Interchangeable agents are
ordered by the first task each holds. The search fixes assignments first (tasks in
topological order), then times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem
from solvers.workflow.cpsat_model import break_symmetry, build_model, identical_agent_runs
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule

__all__ = ["CpScheduleOutcome", "load_lower_bound", "makespan_lower_bound", "solve_schedule"]

_HORIZON_UNITS = 1_000_000_000  # the warm start's makespan in model units


@dataclass
class CpScheduleOutcome:
    """Agent and order from the model, and a valid lower bound on the makespan."""

    agent: list[int] | None
    order: list[int] | None
    lower_bound: float
    proven: bool


def makespan_lower_bound(problem: CompiledProblem, graph: WorkflowGraph) -> float:
    """max(longest chain of fastest durations, load bound) in seconds (`load_lower_bound`)."""
    eligible = problem.eligible
    fastest = [
        min((graph.duration[i][j] for i in range(graph.m) if eligible[i, j]), default=0.0)
        for j in range(graph.n)
    ]
    ready = [0.0] * graph.n
    for j in graph.topo:
        ready[j] = max((ready[p] + fastest[p] for p, _ in graph.preds[j]), default=0.0)
    chain = max((ready[j] + fastest[j] for j in range(graph.n)), default=0.0)
    # Float round-off must not push a proven bound above the optimum.
    return max(chain, load_lower_bound(problem, graph)) * (1 - 1e-9)


def load_lower_bound(problem: CompiledProblem, graph: WorkflowGraph) -> float:
    """sum_j f_j / sum_i r_i, f_j task j's fastest duration, r_i = max over the tasks
    agent i may take of f_j / d_ij (its best relative speed); 0 when a duration is 0.

    Valid for any durations: in a schedule of makespan C agent i runs tasks J_i with
    sum d_ij <= C, and sum_j f_j = sum_i sum_(J_i) (f_j / d_ij) d_ij <= C sum_i r_i.
    With durations work / speed it is total work over total speed.
    """
    duration = np.asarray(graph.duration, dtype=np.float64)
    eligible = np.asarray(problem.eligible, dtype=bool)
    if duration.size == 0 or np.any(duration[eligible] <= 0) or not eligible.any(axis=0).all():
        return 0.0
    fastest = np.where(eligible, duration, np.inf).min(axis=0)
    relative = np.where(eligible, fastest[None, :] / np.where(eligible, duration, 1.0), 0.0)
    return float(fastest.sum() / relative.max(axis=1).sum())


def solve_schedule(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    warm: Schedule,
    time_limit_s: float,
    workers: int,
    seed: int,
) -> CpScheduleOutcome:
    """Minimise the makespan from `warm` (a valid schedule) within the time limit."""
    allowed = [np.flatnonzero(problem.eligible[:, j]).tolist() for j in range(graph.n)]
    floor = makespan_lower_bound(problem, graph)
    built = build_model(problem, graph, warm, _HORIZON_UNITS, allowed, lower_bound=floor)
    break_symmetry(built, identical_agent_runs(problem, graph), graph.n)
    model = built.model
    model.minimize(built.makespan)
    model.add_decision_strategy(
        [built.use[j, i] for j in graph.topo for i in allowed[j]],
        cp_model.CHOOSE_FIRST,
        cp_model.SELECT_MAX_VALUE,
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    # Capacities rounded against the plan cut some real schedules out: the model's bound
    # is not one then, but `floor` (a relaxation without capacities) still is.
    if built.rounded_capacity:
        bound = floor
    else:
        model_bound = (solver.best_objective_bound - built.slack) / built.scale
        bound = max(0.0, floor, model_bound) if status != cp_model.UNKNOWN else floor
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpScheduleOutcome(None, None, bound, False)
    agent = [-1] * graph.n
    for (j, i), b in built.use.items():
        if solver.boolean_value(b):
            agent[j] = i
    position = {j: k for k, j in enumerate(graph.topo)}
    # Model start order, ties by topological position: a topological order (durations
    # and transfers are >= 0), so re-timing in it never starts a task later.
    order = sorted(range(graph.n), key=lambda j: (solver.value(built.start[j]), position[j]))
    proven = status == cp_model.OPTIMAL and not built.rounded_capacity
    return CpScheduleOutcome(agent, order, bound, proven and not math.isnan(bound))
