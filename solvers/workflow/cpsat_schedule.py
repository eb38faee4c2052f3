"""CP-SAT over a small workflow: minimum makespan, with a lower bound that holds for the
real (unrounded) durations (the model is in `cpsat_model`).

Before the search the makespan is bounded below by the longest chain of fastest
durations (no transfer) and by a load bound (total work over total speed when every
agent may take every task); the incumbent bounds it above. Interchangeable agents are
ordered by the first task each holds. A decision strategy (assignments first, tasks in
topological order) is given; one CP-SAT worker searched the same branches without it.

With two or more workers, workflows of up to 40 tasks without capacity, max_tasks or
group rules run the exact search (`exact_beside.ExactBeside`) on one worker's core
beside CP-SAT: its refuted makespans raise the bound (CP-SAT's stays at total work over
total speed on 30 x 4 workflows at CCR 0.5) and its schedules are taken when shorter;
whichever proves first stops the other. The engine starts that search itself and passes
it in (CP-SAT then has a short deterministic budget); other callers get one for CP-SAT's
time only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem
from models.run_options import DEFAULT_REL_GAP
from solvers.workflow.cpsat_model import (
    break_symmetry,
    build_model,
    identical_agent_runs,
)
from solvers.workflow.exact_beside import ExactBeside
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heads_tails import add_heads_and_tails
from solvers.workflow.heft import Schedule

__all__ = [
    "CpScheduleOutcome",
    "fastest_transfers",
    "load_lower_bound",
    "makespan_lower_bound",
    "solve_schedule",
]

#: The warm start's makespan in model units. Rounding costs a re-timed schedule at most
#: one unit per task and edge along a chain (about 1e-5 of the makespan at 30 tasks);
#: at 10^9 units CP-SAT raised its bound one unit per conflict and its proofs on 30 x 4
#: workflows at CCR 1 took 1.6-3x the effort of 10^5 units.
_HORIZON_UNITS = 1_000_000
#: CP-SAT's deterministic time beside an exact search the caller runs on: on 30-40 task
#: workflows (4-7 agents) it proved within 0.00-0.16 deterministic s or not within the
#: 1.1-1.3 s it had in 7 s (30 x 4 at CCR 0.5, its bound at the floor until the proof),
#: so past this the exact search has its core (BENCHMARKS.md, "Workflow proofs (ninth
#: session, helper)").
_PATIENCE_DETERMINISTIC_S = 0.3
#: CP-SAT's full-problem searches, in the order workers take them (`_configure_workers`).
_PROOF_SUBSOLVERS = ("no_lp", "max_lp")


@dataclass
class CpScheduleOutcome:
    """Agent and order from the model, and a valid lower bound on the makespan.

    `proven`: CP-SAT closed the model's gap, or the exact search ended; the schedule
    re-timed with real durations may still sit a few units of rounding above
    `lower_bound` (the caller compares).
    """

    agent: list[int] | None
    order: list[int] | None
    lower_bound: float
    proven: bool
    #: CP-SAT's effort: search branches and deterministic time (s), which unlike the wall
    #: time do not grow when other processes load the machine.
    branches: int = 0
    deterministic_s: float = 0.0


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


def fastest_transfers(problem: CompiledProblem, graph: WorkflowGraph) -> WorkflowGraph:
    """`graph`, or a copy whose transfers are no slower than on any path of the network.

    `evaluate_plan` times a plan whose traffic overloads a link on the paths it is
    routed on, which may be wider than the lowest-latency ones the graph holds; a
    bound must hold for those too. Per pair of nodes: the lowest latency and the
    widest bottleneck (maximin over paths), which no single path beats on either.
    """
    net = problem.network
    if net is None or not net.may_overload:
        return graph  # every plan is timed on the lowest-latency paths
    widest = net.bandwidth.astype(np.float64).copy()
    for k in range(len(net.nodes)):  # Floyd-Warshall for the widest bottleneck
        widest = np.maximum(widest, np.minimum(widest[:, k, None], widest[None, k, :]))
    per_data, fixed = np.array(graph.per_data), np.array(graph.fixed)
    nodes = net.agent_node
    for a, b in zip(*np.nonzero(nodes[:, None] != nodes[None, :]), strict=True):
        u, w = nodes[a], nodes[b]
        if u >= 0 and w >= 0 and widest[u, w] > 0:
            per_data[a, b] = min(per_data[a, b], 1.0 / widest[u, w])
            fixed[a, b] = min(fixed[a, b], net.distance[u, w] / 1000.0)
    return replace(graph, per_data=per_data.tolist(), fixed=fixed.tolist())


def _configure_workers(solver: cp_model.CpSolver, workers: int) -> None:
    """Full-problem searches only, the first without the LP relaxation.

    Without the LP the proofs on 30 x 4 workflows at CCR 1 took a seventh to a tenth of
    the CPU time (BENCHMARKS.md, "Workflow proofs (sixth session, helper)"); with two or
    more workers the second keeps the no-overlaps' linearisation (cuts), a different
    search beside it. CP-SAT's default for 2 workers runs one full search beside a
    first-solution worker, idle here (the warm start is hinted).
    """
    solver.parameters.num_workers = max(1, workers)
    if workers <= 1:
        solver.parameters.linearization_level = 0
        return
    solver.parameters.subsolvers.extend(_PROOF_SUBSOLVERS)
    solver.parameters.num_full_subsolvers = min(workers, len(_PROOF_SUBSOLVERS))


def solve_schedule(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    warm: Schedule,
    time_limit_s: float,
    workers: int,
    seed: int,
    rel_gap: float = DEFAULT_REL_GAP,
    exact: ExactBeside | None = None,
) -> CpScheduleOutcome:
    """Minimise the makespan from `warm` (a valid schedule) within the time limit, or
    until the model's gap is within half of `rel_gap`.

    With `exact` (started by the caller, who also finishes it) CP-SAT runs on one worker
    fewer for at most `_PATIENCE_DETERMINISTIC_S`, and a proof of the exact search stops
    it. Without, the exact search runs beside it when it applies, for CP-SAT's time only.
    """
    allowed = [np.flatnonzero(problem.eligible[:, j]).tolist() for j in range(graph.n)]
    floor = makespan_lower_bound(problem, graph)
    relaxed = fastest_transfers(problem, graph)
    built = build_model(problem, relaxed, warm, _HORIZON_UNITS, allowed, lower_bound=floor)
    break_symmetry(built, identical_agent_runs(problem, relaxed), graph.n)
    add_heads_and_tails(built, relaxed, allowed)
    model = built.model
    model.minimize(built.makespan)
    model.add_decision_strategy(
        [built.use[j, i] for j in graph.topo for i in allowed[j]],
        cp_model.CHOOSE_FIRST,
        cp_model.SELECT_MAX_VALUE,
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.random_seed = seed
    # Half the caller's gap: the rest is for re-timing with real durations.
    solver.parameters.relative_gap_limit = rel_gap / 2
    own = None
    if exact is None and ExactBeside.applies(problem, graph, workers):
        own = exact = ExactBeside(relaxed, allowed)
        exact.start(floor, warm.makespan, rel_gap, time.monotonic() + time_limit_s)
    elif exact is not None:
        # CP-SAT proves in one step or not at all here; then the exact search has both cores.
        solver.parameters.max_deterministic_time = _PATIENCE_DETERMINISTIC_S
    _configure_workers(solver, workers - (exact is not None))
    if exact is not None and not exact.attach(solver):  # the exact search proved already
        outcome = CpScheduleOutcome(None, None, floor, False)
        if own is not None:
            own.stop()
            own.merge(outcome)
        return outcome
    try:
        status = solver.solve(model)
    finally:
        if own is not None:
            own.stop()  # its thread never outlives this call
    # Capacities rounded against the plan cut some real schedules out: the model's bound
    # is not one then, but `floor` (a relaxation without capacities) still is.
    if built.rounded_capacity:
        bound = floor
    else:
        model_bound = solver.best_objective_bound / built.scale
        bound = max(0.0, floor, model_bound) if status != cp_model.UNKNOWN else floor
    branches, deterministic_s = solver.num_branches, solver.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        outcome = CpScheduleOutcome(None, None, bound, False, branches, deterministic_s)
        if own is not None:
            own.merge(outcome)
        return outcome
    agent = [-1] * graph.n
    for (j, i), b in built.use.items():
        if solver.boolean_value(b):
            agent[j] = i
    position = {j: k for k, j in enumerate(graph.topo)}
    # Model start order, ties by topological position: a topological order (durations
    # and transfers are >= 0), so re-timing in it never starts a task later.
    order = sorted(range(graph.n), key=lambda j: (solver.value(built.start[j]), position[j]))
    proven = status == cp_model.OPTIMAL and not built.rounded_capacity
    proven = proven and not math.isnan(bound)
    outcome = CpScheduleOutcome(agent, order, bound, proven, branches, deterministic_s)
    if own is not None:
        own.merge(outcome)
    return outcome
