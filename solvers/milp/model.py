"""The MILP formulation of a compiled allocation problem, as arrays (no modelling library).

Columns are the eligible (agent, task) binaries first, then any helper columns an
objective needs; rows are collected as sparse triplets. One function per constraint
family and per objective; each builds its rows from numpy index arrays in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from models import CompiledProblem
from solvers.milp.link_capacity import add_link_capacity, link_hint, models_link_capacity

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
    """One objective as `sum(coef * column) + constant`; the constant stays out of the model."""

    columns: np.ndarray  # int64 column indices
    coefs: np.ndarray  # float64, one per column index
    constant: float = 0.0

    def dense(self, n_cols: int) -> np.ndarray:
        """The coefficients as one float64[n_cols] vector."""
        vector = np.zeros(n_cols)
        np.add.at(vector, self.columns, self.coefs)
        return vector


@dataclass
class MilpModel:
    """Columns, rows as sparse triplets, and the index maps needed to read a plan back."""

    name: str
    x_agent: np.ndarray  # int64[n_x] agent of each assignment column
    x_task: np.ndarray  # int64[n_x] task of each assignment column
    var_of: np.ndarray  # int64[m, n] assignment column of (agent, task), -1 where none
    col_names: list[str]
    col_lower: list[float]
    col_upper: list[float]
    col_binary: list[bool]
    row_names: list[str] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    entries: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # per row
    objectives: dict[str, LinearObjective] = field(default_factory=dict)
    used: list[int | None] = field(default_factory=list)  # y_i column, consolidation
    max_load: int | None = None  # makespan / imbalance column
    comm: list[tuple[int, int, int]] = field(default_factory=list)  # z, x_a, x_b columns
    # Pair and flow columns of link bandwidth (`link_capacity`), None when not modelled.
    link_columns: tuple | None = None
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        """Assignment columns (they come first)."""
        return len(self.x_agent)

    @property
    def n_cols(self) -> int:
        return len(self.col_names)

    @property
    def n_rows(self) -> int:
        return len(self.row_names)

    def add_column(self, name: str, lower: float, upper: float, binary: bool) -> int:
        self.col_names.append(name)
        self.col_lower.append(lower)
        self.col_upper.append(upper)
        self.col_binary.append(binary)
        return self.n_cols - 1

    def add_row(
        self, columns: np.ndarray, coefs: np.ndarray, lower: float, upper: float, name: str
    ) -> None:
        """Add `lower <= sum(coefs * columns) <= upper` (zero coefficients dropped)."""
        keep = coefs != 0
        self.entries.append((np.asarray(columns, np.int64)[keep], np.asarray(coefs, float)[keep]))
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.row_names.append(name)

    def matrix(self) -> sparse.csr_matrix:
        """The constraint matrix, one row per added row, in compressed sparse rows."""
        lengths = [len(cols) for cols, _ in self.entries]
        rows = np.repeat(np.arange(len(lengths)), lengths)
        cols = np.concatenate([c for c, _ in self.entries]) if lengths else np.zeros(0, np.int64)
        vals = np.concatenate([v for _, v in self.entries]) if lengths else np.zeros(0)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols))


def build_model(problem: CompiledProblem, names: tuple[str, ...]) -> MilpModel:
    """Columns, every hard constraint, and a linear objective per name in `names`.

    The caller combines (weighted) or sequences (lexicographic) `MilpModel.objectives`.

    Raises:
        ModelInfeasibleError: a task has no eligible agent and may not stay unassigned.
    """
    model = _assignment_columns(problem)
    each_task_once(model, problem)
    agent_capacity(model, problem)
    max_tasks(model, problem)
    anti_affinity(model, problem)
    co_location(model, problem)
    if models_link_capacity(problem):
        add_link_capacity(model, problem)
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


def _assignment_columns(problem: CompiledProblem) -> MilpModel:
    # Eligibility by construction: only eligible (agent, task) pairs get a column.
    mask = problem.eligible.copy()
    for group in problem.co_location:
        # A co-located task can only go where every member of its group can go.
        mask[:, group] = np.all(mask[:, group], axis=1)[:, None]
    agents, tasks = np.nonzero(mask)
    var_of = np.full(mask.shape, -1, dtype=np.int64)
    var_of[agents, tasks] = np.arange(len(agents))
    n_x = len(agents)
    return MilpModel(
        name=_safe_name(problem.name),
        x_agent=agents,
        x_task=tasks,
        var_of=var_of,
        col_names=[f"x_{i}_{j}" for i, j in zip(agents.tolist(), tasks.tolist(), strict=True)],
        col_lower=[0.0] * n_x,
        col_upper=[1.0] * n_x,
        col_binary=[True] * n_x,
    )


def _ones(columns: np.ndarray) -> np.ndarray:
    return np.ones(len(columns))


def each_task_once(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: every task is on exactly one agent (at most one when allow_unassigned).
    order = np.argsort(model.x_task, kind="stable")
    bounds = np.searchsorted(model.x_task[order], np.arange(problem.n_tasks + 1))
    lower = -np.inf if problem.allow_unassigned else 1.0
    for j in range(problem.n_tasks):
        columns = order[bounds[j] : bounds[j + 1]]
        if not len(columns):
            if problem.allow_unassigned:
                continue
            raise ModelInfeasibleError(
                f"task {problem.task_ids[j]} has no eligible agent (capability, pinning, "
                "capacity or co-location rule out all) and allow_unassigned is false"
            )
        model.add_row(columns, _ones(columns), lower, 1.0, f"once_{j}")


def _agent_columns(model: MilpModel, n_agents: int) -> list[np.ndarray]:
    # np.nonzero is row-major, so each agent's columns are one contiguous run.
    bounds = np.searchsorted(model.x_agent, np.arange(n_agents + 1))
    return [np.arange(bounds[i], bounds[i + 1]) for i in range(n_agents)]


def agent_capacity(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: per agent and resource dimension, the usage of its tasks fits its capacity.
    for i, columns in enumerate(_agent_columns(model, problem.n_agents)):
        for k in range(problem.n_dims):
            use = problem.usage[i, model.x_task[columns], k].astype(np.float64)
            cap = float(problem.capacity[i, k])
            if use.sum() <= cap:
                continue  # cannot bind: every eligible task fits together
            model.add_row(columns, use, -np.inf, cap, f"cap_{i}_{k}")


def max_tasks(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: an agent runs at most max_tasks tasks.
    for i, columns in enumerate(_agent_columns(model, problem.n_agents)):
        limit = int(problem.max_tasks[i])
        if len(columns) > limit:
            model.add_row(columns, _ones(columns), -np.inf, float(limit), f"maxtasks_{i}")


def anti_affinity(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: tasks of an anti-affinity group are on pairwise different agents.
    for g, group in enumerate(problem.anti_affinity):
        for i in range(problem.n_agents):
            columns = model.var_of[i, group]
            columns = columns[columns >= 0]
            if len(columns) > 1:
                model.add_row(columns, _ones(columns), -np.inf, 1.0, f"anti_{g}_{i}")


def co_location(model: MilpModel, problem: CompiledProblem) -> None:
    # Rule: tasks of a co-location group are all on one agent (or all unassigned).
    for g, group in enumerate(problem.co_location):
        for a, b in zip(group[:-1].tolist(), group[1:].tolist(), strict=True):
            for i in np.flatnonzero(model.var_of[:, a] >= 0).tolist():
                pair = np.array([model.var_of[i, a], model.var_of[i, b]])
                model.add_row(pair, np.array([1.0, -1.0]), 0.0, 0.0, f"coloc_{g}_{a}_{b}_{i}")


def _on_assignments(coefs: np.ndarray, constant: float = 0.0) -> LinearObjective:
    """An objective over the assignment columns (coefs[k] for column k)."""
    nonzero = np.flatnonzero(coefs)
    return LinearObjective(nonzero, coefs[nonzero].astype(np.float64), constant)


def _cost(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    return _on_assignments(problem.cost[model.x_agent, model.x_task].astype(np.float64))


def _unassigned(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    if not problem.allow_unassigned:
        return _on_assignments(np.zeros(0))
    weight = problem.task_weight * problem.unassigned_penalty
    return _on_assignments(-weight[model.x_task], float(weight.sum()))


def _migrations(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    moved = np.flatnonzero(problem.current >= 0)
    stay = model.var_of[problem.current[moved], moved]
    stay = stay[stay >= 0]
    return LinearObjective(stay, -np.ones(len(stay)), float(len(moved)))


def _consolidation(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    # Used agents minus their mean utilisation; exact because capacity keeps utilisation <= 1.
    cap = problem.capacity.astype(np.float64)
    dims = np.maximum((cap > 0).sum(axis=1), 1)
    share = np.where(cap > 0, 1.0 / np.where(cap > 0, cap, 1.0), 0.0) / dims[:, None]
    use = problem.usage[model.x_agent, model.x_task].astype(np.float64)
    utilisation = _on_assignments(-(use * share[model.x_agent]).sum(axis=1))
    used_columns: list[int] = []
    model.used = [None] * problem.n_agents
    for i, columns in enumerate(_agent_columns(model, problem.n_agents)):
        if not len(columns):
            continue
        y = model.used[i] = model.add_column(f"used_{i}", 0.0, 1.0, True)
        used_columns.append(y)
        # Aggregated link (one row per agent, not one per task): smaller, weaker LP.
        big = float(min(len(columns), int(problem.max_tasks[i])))
        model.add_row(np.r_[columns, y], np.r_[_ones(columns), -big], -np.inf, 0.0, f"used_{i}")
    return LinearObjective(
        np.r_[utilisation.columns, used_columns].astype(np.int64),
        np.r_[utilisation.coefs, np.ones(len(used_columns))],
    )


def _load_column(model: MilpModel, problem: CompiledProblem) -> int:
    # One continuous bound on every agent's busy time, shared by makespan and imbalance.
    if model.max_load is not None:
        return model.max_load
    t = model.max_load = model.add_column("max_load", 0.0, np.inf, False)
    duration = problem.duration[model.x_agent, model.x_task].astype(np.float64)
    for i, columns in enumerate(_agent_columns(model, problem.n_agents)):
        model.add_row(np.r_[columns, t], np.r_[duration[columns], -1.0], -np.inf, 0.0, f"load_{i}")
    return t


def _makespan(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    return LinearObjective(np.array([_load_column(model, problem)]), np.ones(1))


def _imbalance(model: MilpModel, problem: CompiledProblem) -> LinearObjective:
    t = _load_column(model, problem)
    duration = problem.duration[model.x_agent, model.x_task].astype(np.float64)
    mean_load = _on_assignments(-duration / problem.n_agents)
    return LinearObjective(np.r_[mean_load.columns, t], np.r_[mean_load.coefs, 1.0])


def _communication(model: MilpModel, problem: CompiledProblem) -> LinearObjective | None:
    if problem.latency is None or not len(problem.comm_pairs):
        return _on_assignments(np.zeros(0))
    triples = _communication_triples(model, problem)
    if triples is None:
        model.skipped.append("communication")
        model.notes.append(
            f"communication needs over {MAX_COMMUNICATION_VARS} product variables; "
            "the MILP leaves it out (CP-SAT or NSGA-II model it)"
        )
        return None
    columns, coefs = [], []
    for k, (xa, xb, coef) in enumerate(triples):
        # z >= x_a + x_b - 1: with a positive cost, z is 1 exactly when both are placed.
        z = model.add_column(f"comm_{k}", 0.0, np.inf, False)
        model.comm.append((z, xa, xb))
        columns.append(z)
        coefs.append(coef)
        model.add_row(np.array([z, xa, xb]), np.array([1.0, -1.0, -1.0]), -1.0, np.inf, f"comm_{k}")
    return LinearObjective(np.array(columns, dtype=np.int64), np.array(coefs))


def _communication_triples(
    model: MilpModel, problem: CompiledProblem
) -> list[tuple[int, int, float]] | None:
    """(x_a column, x_b column, volume x latency) per placed pair; None when too many."""
    assert problem.latency is not None
    triples: list[tuple[int, int, float]] = []
    for (a, b), volume in zip(
        problem.comm_pairs.tolist(), problem.comm_volume.tolist(), strict=True
    ):
        va, vb = model.var_of[:, a], model.var_of[:, b]
        latency = problem.latency[np.ix_(va >= 0, vb >= 0)]
        ia, kb = np.nonzero(latency > 0)
        xa, xb = va[va >= 0][ia], vb[vb >= 0][kb]
        coefs = (volume * latency[ia, kb]).tolist()
        triples.extend(zip(xa.tolist(), xb.tolist(), coefs, strict=True))
        if len(triples) > MAX_COMMUNICATION_VARS:
            return None
    return triples


def hint_values(
    model: MilpModel, problem: CompiledProblem, assignment: np.ndarray
) -> np.ndarray | None:
    """Every column's value for a plan, or None if the plan uses a pair with no column."""
    plan = np.asarray(assignment, dtype=np.int64)
    placed = np.flatnonzero(plan >= 0)
    chosen = model.var_of[plan[placed], placed]
    if np.any(chosen < 0):
        return None
    values = np.zeros(model.n_cols)
    values[chosen] = 1.0
    tasks_per_agent = np.bincount(plan[placed], minlength=problem.n_agents)
    for i, y in enumerate(model.used):
        if y is not None:
            values[y] = float(tasks_per_agent[i] > 0)
    if model.max_load is not None:
        busy = problem.duration[plan[placed], placed]
        load = np.bincount(plan[placed], weights=busy, minlength=problem.n_agents)
        values[model.max_load] = float(load.max())
    for z, xa, xb in model.comm:
        values[z] = float(values[xa] > 0.5 and values[xb] > 0.5)
    if model.link_columns is not None:
        link_hint(model, problem, plan, values)
    return values


def _safe_name(name: str) -> str:
    # LP/MPS names must not hold spaces or operators.
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return cleaned or "allocation"
