"""The MILP formulation of a compiled allocation problem as a PuLP model.

One function per constraint family and per objective; expressions are built from
numpy index arrays in one pass each, never by repeated `+=` on a growing expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pulp

from models import CompiledProblem

__all__ = [
    "LinearObjective",
    "MilpModel",
    "ModelInfeasibleError",
    "build_model",
    "hint_values",
]

#: Objectives the MILP cannot express linearly (sequence-dependent completion times).
UNMODELLED = ("weighted_completion", "tardiness")
#: Above this many product variables the communication objective is left out.
MAX_COMMUNICATION_VARS = 20_000


class ModelInfeasibleError(ValueError):
    """The model is infeasible before any solve (e.g. a task with no eligible agent)."""


@dataclass
class LinearObjective:
    """One objective as `expr + constant`; the constant stays out of the solver's model."""

    expr: pulp.LpAffineExpression
    constant: float = 0.0


@dataclass
class MilpModel:
    """The PuLP problem plus the index maps needed to read a plan back."""

    prob: pulp.LpProblem
    x: list[pulp.LpVariable]  # one binary per eligible (agent, task)
    x_agent: np.ndarray  # int64[len(x)]
    x_task: np.ndarray  # int64[len(x)]
    var_of: np.ndarray  # int64[m, n] index into x, -1 where not eligible
    objectives: dict[str, LinearObjective] = field(default_factory=dict)
    used: list[pulp.LpVariable | None] = field(default_factory=list)  # y_i, consolidation
    max_load: pulp.LpVariable | None = None  # makespan / imbalance
    comm: list[tuple[pulp.LpVariable, int, int]] = field(default_factory=list)  # z, x_a, x_b
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        return len(self.x)


def build_model(problem: CompiledProblem, names: tuple[str, ...]) -> MilpModel:
    """Variables, every hard constraint, and a linear expression per objective in `names`.

    The objective of `prob` is left unset: the caller combines (weighted) or sequences
    (lexicographic) the entries of `MilpModel.objectives`.

    Raises:
        ModelInfeasibleError: a task has no eligible agent and may not stay unassigned.
    """
    model = _variables(problem)
    each_task_once(model, problem)
    agent_capacity(model, problem)
    max_tasks(model, problem)
    anti_affinity(model, problem)
    co_location(model, problem)
    builders = {
        "cost": _cost,
        "unassigned": _unassigned,
        "migrations": _migrations,
        "consolidation": _consolidation,
        "makespan": _makespan,
        "imbalance": _imbalance,
        "communication": _communication,
    }
    for name in names:
        if name in UNMODELLED:
            model.skipped.append(name)
            model.notes.append(f"objective {name} is not linear; the MILP leaves it out")
            continue
        objective = builders[name](model, problem)
        if objective is not None:
            model.objectives[name] = objective
    return model


def _variables(problem: CompiledProblem) -> MilpModel:
    # Eligibility by construction: only eligible (agent, task) pairs get a variable.
    mask = problem.eligible.copy()
    for group in problem.co_location:
        # A co-located task can only go where every member of its group can go.
        mask[:, group] = np.all(mask[:, group], axis=1)[:, None]
    rows, cols = np.nonzero(mask)
    prob = pulp.LpProblem(_safe_name(problem.name), pulp.LpMinimize)
    x = [
        prob.add_variable(f"x_{i}_{j}", 0, 1, pulp.LpBinary)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True)
    ]
    var_of = np.full(mask.shape, -1, dtype=np.int64)
    var_of[rows, cols] = np.arange(len(x))
    return MilpModel(prob=prob, x=x, x_agent=rows, x_task=cols, var_of=var_of)


def _expr(model: MilpModel, idx: np.ndarray, coef: np.ndarray) -> pulp.LpAffineExpression:
    xs = model.x
    return pulp.LpAffineExpression(
        [(xs[k], c) for k, c in zip(idx.tolist(), coef.tolist(), strict=True)]
    )


def _add(model: MilpModel, expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str):
    model.prob.addConstraint(pulp.LpConstraint(expr, sense=sense, rhs=rhs), name)


def each_task_once(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: every task is on exactly one agent (at most one when allow_unassigned).
    order = np.argsort(model.x_task, kind="stable")
    bounds = np.searchsorted(model.x_task[order], np.arange(problem.n_tasks + 1))
    sense = pulp.LpConstraintLE if problem.allow_unassigned else pulp.LpConstraintEQ
    for j in range(problem.n_tasks):
        idx = order[bounds[j] : bounds[j + 1]]
        if not len(idx):
            if problem.allow_unassigned:
                continue
            raise ModelInfeasibleError(
                f"task {problem.task_ids[j]} has no eligible agent (capability, pinning, "
                "capacity or co-location rule out all) and allow_unassigned is false"
            )
        _add(model, _expr(model, idx, np.ones(len(idx))), sense, 1.0, f"once_{j}")


def _agent_slices(model: MilpModel, m: int) -> list[np.ndarray]:
    # np.nonzero is row-major, so each agent's variables are one contiguous run.
    bounds = np.searchsorted(model.x_agent, np.arange(m + 1))
    return [np.arange(bounds[i], bounds[i + 1]) for i in range(m)]


def agent_capacity(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: per agent and resource dimension, the usage of its tasks fits its capacity.
    for i, idx in enumerate(_agent_slices(model, problem.n_agents)):
        for k in range(problem.n_dims):
            use = problem.usage[i, model.x_task[idx], k].astype(np.float64)
            cap = float(problem.capacity[i, k])
            if use.sum() <= cap:
                continue  # cannot bind: every eligible task fits together
            nz = use > 0
            _add(model, _expr(model, idx[nz], use[nz]), pulp.LpConstraintLE, cap, f"cap_{i}_{k}")


def max_tasks(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: an agent runs at most max_tasks tasks.
    for i, idx in enumerate(_agent_slices(model, problem.n_agents)):
        limit = int(problem.max_tasks[i])
        if len(idx) > limit:
            expr = _expr(model, idx, np.ones(len(idx)))
            _add(model, expr, pulp.LpConstraintLE, float(limit), f"maxtasks_{i}")


def anti_affinity(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: tasks of an anti-affinity group are on pairwise different agents.
    for g, group in enumerate(problem.anti_affinity):
        for i in range(problem.n_agents):
            idx = model.var_of[i, group]
            idx = idx[idx >= 0]
            if len(idx) > 1:
                expr = _expr(model, idx, np.ones(len(idx)))
                _add(model, expr, pulp.LpConstraintLE, 1.0, f"anti_{g}_{i}")


def co_location(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: tasks of a co-location group are all on one agent (or all unassigned).
    for g, group in enumerate(problem.co_location):
        for a, b in zip(group[:-1].tolist(), group[1:].tolist(), strict=True):
            for i in np.flatnonzero(model.var_of[:, a] >= 0).tolist():
                pair = np.array([model.var_of[i, a], model.var_of[i, b]])
                expr = _expr(model, pair, np.array([1.0, -1.0]))
                _add(model, expr, pulp.LpConstraintEQ, 0.0, f"coloc_{g}_{a}_{b}_{i}")


def _all_x(model: MilpModel, coef: np.ndarray) -> pulp.LpAffineExpression:
    nz = np.flatnonzero(coef)
    return _expr(model, nz, coef[nz])


def _cost(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    coef = problem.cost[model.x_agent, model.x_task].astype(np.float64)
    return LinearObjective(_all_x(model, coef))


def _unassigned(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    if not problem.allow_unassigned:
        return LinearObjective(pulp.LpAffineExpression())
    weight = problem.task_weight * problem.unassigned_penalty
    coef = -weight[model.x_task]
    return LinearObjective(_all_x(model, coef), float(weight.sum()))


def _migrations(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    moved = np.flatnonzero(problem.current >= 0)
    stay = model.var_of[problem.current[moved], moved]
    stay = stay[stay >= 0]
    return LinearObjective(_expr(model, stay, -np.ones(len(stay))), float(len(moved)))


def _consolidation(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    # Used agents minus their mean utilisation; exact because capacity keeps utilisation <= 1.
    cap = problem.capacity.astype(np.float64)
    dims = np.maximum((cap > 0).sum(axis=1), 1)
    share = np.where(cap > 0, 1.0 / np.where(cap > 0, cap, 1.0), 0.0) / dims[:, None]
    use = problem.usage[model.x_agent, model.x_task].astype(np.float64)
    util = (use * share[model.x_agent]).sum(axis=1)
    terms = [
        (model.x[k], -u)
        for k, u in zip(np.flatnonzero(util).tolist(), util[util != 0].tolist(), strict=True)
    ]
    model.used = [None] * problem.n_agents
    for i, idx in enumerate(_agent_slices(model, problem.n_agents)):
        if not len(idx):
            continue
        y = model.prob.add_variable(f"used_{i}", 0, 1, pulp.LpBinary)
        model.used[i] = y
        terms.append((y, 1.0))
        # Aggregated link (one row per agent, not one per task): smaller, weaker LP.
        big = float(min(len(idx), int(problem.max_tasks[i])))
        expr = _expr(model, idx, np.ones(len(idx)))
        expr.addterm(y, -big)
        _add(model, expr, pulp.LpConstraintLE, 0.0, f"used_{i}")
    return LinearObjective(pulp.LpAffineExpression(terms))


def _load_var(model: MilpModel, problem: CompiledProblem) -> pulp.LpVariable:
    # One continuous bound on every agent's busy time, shared by makespan and imbalance.
    if model.max_load is not None:
        return model.max_load
    t = model.prob.add_variable("max_load", lowBound=0.0)
    model.max_load = t
    dur = problem.duration[model.x_agent, model.x_task].astype(np.float64)
    for i, idx in enumerate(_agent_slices(model, problem.n_agents)):
        expr = _expr(model, idx, dur[idx])
        expr.addterm(t, -1.0)
        _add(model, expr, pulp.LpConstraintLE, 0.0, f"load_{i}")
    return t


def _makespan(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    return LinearObjective(pulp.LpAffineExpression([(_load_var(model, problem), 1.0)]))


def _imbalance(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    t = _load_var(model, problem)
    dur = problem.duration[model.x_agent, model.x_task].astype(np.float64)
    expr = _all_x(model, -dur / problem.n_agents)
    expr.addterm(t, 1.0)
    return LinearObjective(expr)


def _communication(model: MilpModel, problem: CompiledProblem) -> LinearObjective | None:
    if problem.latency is None or not len(problem.comm_pairs):
        return LinearObjective(pulp.LpAffineExpression())
    triples: list[tuple[int, int, float]] = []
    for (a, b), volume in zip(
        problem.comm_pairs.tolist(), problem.comm_volume.tolist(), strict=True
    ):
        va, vb = model.var_of[:, a], model.var_of[:, b]
        lat = problem.latency[np.ix_(va >= 0, vb >= 0)]
        ia, kb = np.nonzero(lat > 0)
        xa, xb = va[va >= 0][ia], vb[vb >= 0][kb]
        triples.extend(zip(xa.tolist(), xb.tolist(), (volume * lat[ia, kb]).tolist(), strict=True))
        if len(triples) > MAX_COMMUNICATION_VARS:
            model.skipped.append("communication")
            model.notes.append(
                f"communication needs over {MAX_COMMUNICATION_VARS} product variables; "
                "the MILP leaves it out (CP-SAT or NSGA-II model it)"
            )
            return None
    terms = []
    for k, (xa_k, xb_k, coef) in enumerate(triples):
        # z >= x_a + x_b - 1: with a positive cost, z is 1 exactly when both are placed.
        z = model.prob.add_variable(f"comm_{k}", lowBound=0.0)
        model.comm.append((z, xa_k, xb_k))
        terms.append((z, coef))
        expr = pulp.LpAffineExpression([(z, 1.0), (model.x[xa_k], -1.0), (model.x[xb_k], -1.0)])
        _add(model, expr, pulp.LpConstraintGE, -1.0, f"comm_{k}")
    return LinearObjective(pulp.LpAffineExpression(terms))


def hint_values(
    model: MilpModel, problem: CompiledProblem, assignment: np.ndarray
) -> dict[pulp.LpVariable, float] | None:
    """Values of every model variable for a plan, or None if the plan uses no-variable pairs."""
    a = np.asarray(assignment, dtype=np.int64)
    placed = np.flatnonzero(a >= 0)
    chosen = model.var_of[a[placed], placed]
    if np.any(chosen < 0):
        return None
    on = np.zeros(model.n_vars, dtype=bool)
    on[chosen] = True
    values: dict[pulp.LpVariable, float] = {
        v: float(f) for v, f in zip(model.x, on.tolist(), strict=True)
    }
    counts = np.bincount(a[placed], minlength=problem.n_agents)
    for i, y in enumerate(model.used):
        if y is not None:
            values[y] = float(counts[i] > 0)
    if model.max_load is not None:
        load = np.bincount(
            a[placed], weights=problem.duration[a[placed], placed], minlength=problem.n_agents
        )
        values[model.max_load] = float(load.max())
    for z, xa_k, xb_k in model.comm:
        values[z] = float(on[xa_k] and on[xb_k])
    return values


def _safe_name(name: str) -> str:
    # LP/MPS names must not hold spaces or operators.
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return cleaned or "allocation"
