"""CP-SAT formulation: x[agent, task] for eligible pairs, one function per constraint family.

Objective terms are kept in the problem's own units (float coefficients over model
variables) so the solver can weight, scale and fix them one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem
from solvers.cpsat.int_scaling import choose_scale, scale_down, scale_nearest, scale_up
from solvers.cpsat.link_capacity import add_link_capacity
from solvers.shared.link_flow import CPSAT_LINK_COLUMNS, models_link_capacity

__all__ = ["MAX_COMM_PAIR_VARS", "CpSatModel", "LinearTerm", "formulate"]

#: Above this many (task pair, agent pair) variables the communication term is skipped.
MAX_COMM_PAIR_VARS = 20_000
#: Objectives the model cannot express exactly; the evaluator still reports them.
UNMODELLED = ("weighted_completion", "tardiness")


@dataclass
class LinearTerm:
    """sum(coef * variables[index]) + constant, in the objective's own units."""

    index: np.ndarray  # int64 indices into CpSatModel.variables
    coef: np.ndarray  # float64
    constant: float = 0.0
    # Largest amount by which the model's value can undercut the true value
    # (duration rounding inside load variables); subtracted from bounds.
    slack: float = 0.0


@dataclass
class CpSatModel:
    """The model plus the maps needed to read plans back and to build objectives."""

    model: cp_model.CpModel
    pair_agent: np.ndarray  # int64[p]: agent of x variable k (x vars are variables[:p])
    pair_task: np.ndarray  # int64[p]
    variables: list[cp_model.IntVar]
    terms: dict[str, LinearTerm] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    guards: dict[int, str] = field(default_factory=dict)  # literal index -> requirement
    guard_literals: list[cp_model.IntVar] = field(default_factory=list)
    load_vars: tuple[list[int], int, float] | None = None  # (per-agent loads, max, scale)
    # Largest possible sum of all load variables (each task counted once, at its longest
    # scaled duration): caps the objective's rounding error over the loads together.
    load_total_upper: float = float("inf")
    _guarded: bool = False

    @property
    def n_pairs(self) -> int:
        return len(self.pair_agent)

    def guard(self, requirement: str) -> list[cp_model.IntVar]:
        """An enforcement literal naming `requirement` in diagnosis mode, else none."""
        if not self._guarded:
            return []
        lit = self.model.new_bool_var(f"req{len(self.guard_literals)}")
        self.guards[lit.index] = requirement
        self.guard_literals.append(lit)
        return [lit]

    def new_var(self, lo: int, hi: int, name: str) -> int:
        self.variables.append(self.model.new_int_var(lo, hi, name))
        return len(self.variables) - 1

    def upper(self, index: np.ndarray) -> np.ndarray:
        """Upper bounds of variables (the proto's repeated field does not take index -1)."""
        proto = self.model.proto.variables
        out = np.empty(len(index), dtype=np.float64)
        for pos, k in enumerate(index):
            domain = proto[int(k)].domain
            out[pos] = domain[len(domain) - 1]
        return out

    def expr(self, index: np.ndarray, coef: np.ndarray) -> cp_model.LinearExprT:
        return cp_model.LinearExpr.weighted_sum(
            [self.variables[k] for k in index], [int(c) for c in coef]
        )

    def assignment(self, values: np.ndarray, n_tasks: int) -> np.ndarray:
        """Agent per task (-1 unassigned) from the x variables' 0/1 values."""
        out = np.full(n_tasks, -1, dtype=np.int32)
        chosen = np.asarray(values[: self.n_pairs]) > 0.5
        out[self.pair_task[chosen]] = self.pair_agent[chosen]
        return out


def formulate(problem: CompiledProblem, objectives: tuple[str, ...], guarded: bool = False):
    """Build the model with every hard constraint and a term for each of `objectives`."""
    m = problem.n_agents
    pair_agent, pair_task = (a.astype(np.int64) for a in np.nonzero(problem.eligible))
    cpm = cp_model.CpModel()
    x = [cpm.new_bool_var(f"x{i}_{j}") for i, j in zip(pair_agent, pair_task, strict=True)]
    model = CpSatModel(cpm, pair_agent, pair_task, list(x), _guarded=guarded)
    by_agent = [np.flatnonzero(pair_agent == i) for i in range(m)]
    unassigned = each_task_once(model, problem)
    agent_capacity(model, problem, by_agent)
    max_tasks(model, problem, by_agent)
    anti_affinity(model, problem)
    co_location(model, problem)
    if models_link_capacity(problem, CPSAT_LINK_COLUMNS):
        add_link_capacity(model, problem, _x_lookup(model, problem))
    _objective_terms(model, problem, objectives, unassigned, by_agent)
    return model


def _pairs_of_task(model: CpSatModel, n: int) -> list[np.ndarray]:
    order = np.argsort(model.pair_task, kind="stable")
    splits = np.searchsorted(model.pair_task[order], np.arange(1, n))
    return np.split(order, splits)


def each_task_once(model: CpSatModel, problem: CompiledProblem) -> np.ndarray | None:
    """Rule: every task runs on exactly one agent (at most one with allow_unassigned).

    Eligibility is enforced by construction: x[i, j] exists only for eligible pairs.
    Returns the index of each task's "unassigned" variable when tasks may stay out.
    """
    n = problem.n_tasks
    per_task = _pairs_of_task(model, n)
    u_index = np.full(n, -1, dtype=np.int64)
    for j, ks in enumerate(per_task):
        lits = [model.variables[k] for k in ks]
        if problem.allow_unassigned:
            u_index[j] = model.new_var(0, 1, f"u{j}")
            model.model.add(sum(lits) + model.variables[u_index[j]] == 1)
        else:
            guard = model.guard(f"task {problem.task_ids[j]} must be assigned")
            model.model.add(sum(lits) == 1).only_enforce_if(guard)
    return u_index if problem.allow_unassigned else None


def agent_capacity(model: CpSatModel, problem: CompiledProblem, by_agent: list[np.ndarray]):
    """Rule: on every agent and dimension, the tasks' usage fits within capacity."""
    for k, dim in enumerate(problem.resources):
        use = problem.usage[model.pair_agent, model.pair_task, k]
        scale = choose_scale(np.r_[use, problem.capacity[:, k]])
        use_int = scale_up(use, scale)
        cap_int = scale_down(problem.capacity[:, k], scale)
        if not scale.exact:
            model.notes.append(f"{dim}: usage rounded up / capacity down (scale {scale.factor:g})")
        for i, ks in enumerate(by_agent):
            if len(ks) == 0 or use_int[ks].sum() <= cap_int[i]:
                continue  # cannot bind: every eligible task fits at once
            guard = model.guard(f"agent {problem.agent_ids[i]}'s {dim} capacity")
            model.model.add(model.expr(ks, use_int[ks]) <= int(cap_int[i])).only_enforce_if(guard)


def max_tasks(model: CpSatModel, problem: CompiledProblem, by_agent: list[np.ndarray]):
    """Rule: an agent runs at most max_tasks tasks."""
    for i, ks in enumerate(by_agent):
        if len(ks) > problem.max_tasks[i]:
            guard = model.guard(
                f"agent {problem.agent_ids[i]}'s max_tasks = {problem.max_tasks[i]}"
            )
            lits = [model.variables[k] for k in ks]
            model.model.add(sum(lits) <= int(problem.max_tasks[i])).only_enforce_if(guard)


def _x_lookup(model: CpSatModel, problem: CompiledProblem) -> np.ndarray:
    lookup = np.full((problem.n_agents, problem.n_tasks), -1, dtype=np.int64)
    lookup[model.pair_agent, model.pair_task] = np.arange(model.n_pairs)
    return lookup


def anti_affinity(model: CpSatModel, problem: CompiledProblem) -> None:
    """Rule: tasks of an anti-affinity group run on pairwise different agents."""
    if not problem.anti_affinity:
        return
    lookup = _x_lookup(model, problem)
    for g, group in enumerate(problem.anti_affinity):
        guard = model.guard(f"anti-affinity group {g} ({_names(problem, group)})")
        for i in range(problem.n_agents):
            ks = lookup[i, group]
            ks = ks[ks >= 0]
            if len(ks) > 1:
                lits = [model.variables[k] for k in ks]
                model.model.add(sum(lits) <= 1).only_enforce_if(guard)


def co_location(model: CpSatModel, problem: CompiledProblem) -> None:
    """Rule: tasks of a co-location group all run on one agent (or all stay unassigned)."""
    if not problem.co_location:
        return
    lookup = _x_lookup(model, problem)
    for g, group in enumerate(problem.co_location):
        guard = model.guard(f"co-location group {g} ({_names(problem, group)})")
        first = group[0]
        for j in group[1:]:
            for i in range(problem.n_agents):
                a, b = lookup[i, first], lookup[i, j]
                lhs = model.variables[a] if a >= 0 else 0
                rhs = model.variables[b] if b >= 0 else 0
                if a >= 0 or b >= 0:
                    model.model.add(lhs == rhs).only_enforce_if(guard)


def _names(problem: CompiledProblem, group: np.ndarray) -> str:
    names = [problem.task_ids[j] for j in group[:4]]
    return ", ".join(names) + (", ..." if len(group) > 4 else "")


def _objective_terms(
    model: CpSatModel,
    problem: CompiledProblem,
    names: tuple[str, ...],
    unassigned: np.ndarray | None,
    by_agent: list[np.ndarray],
) -> None:
    pa, pt, p = model.pair_agent, model.pair_task, model.n_pairs
    all_x = np.arange(p)
    for name in names:
        if name == "cost":
            coef = problem.cost[pa, pt].astype(np.float64)
            model.terms[name] = LinearTerm(all_x, coef)
        elif name == "unassigned":
            if unassigned is None:
                model.terms[name] = LinearTerm(np.zeros(0, np.int64), np.zeros(0))
            else:
                coef = problem.task_weight * problem.unassigned_penalty
                model.terms[name] = LinearTerm(unassigned, coef.astype(np.float64))
        elif name == "migrations":
            # sum over tasks with a current agent of (1 - x[current, task]).
            stays = problem.current[pt] == pa
            constant = float((problem.current >= 0).sum())
            model.terms[name] = LinearTerm(all_x[stays], -np.ones(int(stays.sum())), constant)
        elif name == "consolidation":
            model.terms[name] = _consolidation_term(model, problem, by_agent)
        elif name in ("makespan", "imbalance"):
            model.terms[name] = _load_term(model, problem, by_agent, name)
        elif name == "communication":
            term = _communication_term(model, problem)
            if term is not None:
                model.terms[name] = term
        elif name in UNMODELLED:
            model.notes.append(
                f"{name} is not linear in the assignment: not in the CP-SAT objective "
                "(the reported value comes from evaluate_plan)"
            )


def _consolidation_term(model: CpSatModel, problem: CompiledProblem, by_agent) -> LinearTerm:
    # sum over used agents of (1 - mean utilisation) = sum(y_i) - sum(util_ij x_ij),
    # exact because capacity constraints keep every utilisation <= 1.
    cap = problem.capacity.astype(np.float64)
    dims = np.maximum((cap > 0).sum(axis=1), 1)
    ratio = np.where(cap[:, None, :] > 0, problem.usage / np.where(cap > 0, cap, 1)[:, None], 0)
    util = ratio.sum(axis=2) / dims[:, None]
    used = []
    for i, ks in enumerate(by_agent):
        y = model.new_var(0, 1, f"y{i}")
        used.append(y)
        for k in ks:
            model.model.add_implication(model.variables[k], model.variables[y])
    pa, pt = model.pair_agent, model.pair_task
    index = np.r_[np.array(used, dtype=np.int64), np.arange(model.n_pairs)]
    coef = np.r_[np.ones(len(used)), -util[pa, pt]]
    return LinearTerm(index, coef)


def _load_term(model: CpSatModel, problem: CompiledProblem, by_agent, name: str) -> LinearTerm:
    dur = problem.duration[model.pair_agent, model.pair_task].astype(np.float64)
    # Durations only steer makespan / balance: 1e5 resolution is plenty and keeps load
    # variables small enough for the objective's own scaling.
    scale = choose_scale(dur, max_scaled=1e5)
    if model.load_vars is None:
        dur_int = scale_nearest(dur, scale)
        load_index = []
        for i, ks in enumerate(by_agent):
            hi = int(dur_int[ks].sum())
            v = model.new_var(0, hi, f"load{i}")
            model.model.add(model.variables[v] == model.expr(ks, dur_int[ks]))
            load_index.append(v)
        peak = model.new_var(0, int(max(dur_int.sum(), 0)), "max_load")
        for v in load_index:
            model.model.add(model.variables[peak] >= model.variables[v])
        model.load_vars = (load_index, peak, scale.factor)
        longest = np.zeros(problem.n_tasks)
        np.maximum.at(longest, model.pair_task, dur_int.astype(np.float64))
        model.load_total_upper = float(longest.sum())
    loads, peak, _ = model.load_vars
    factor = scale.factor
    # A load is off by at most the sum, over its tasks, of their rounding errors; the
    # worst agent takes each task's largest error (tighter than half a unit per task).
    slack = 0.0
    if not scale.exact:
        err = np.abs(scale_nearest(dur, scale) / factor - dur)
        per_task = np.zeros(problem.n_tasks)
        np.maximum.at(per_task, model.pair_task, err)
        slack = float(per_task.sum())
    if name == "makespan":
        return LinearTerm(np.array([peak]), np.array([1.0 / factor]), slack=slack)
    m = problem.n_agents
    index = np.r_[np.array([peak]), np.array(loads, dtype=np.int64)]
    coef = np.r_[np.array([1.0 / factor]), -np.full(m, 1.0 / (m * factor))]
    return LinearTerm(index, coef, slack=2 * slack)


def _communication_term(model: CpSatModel, problem: CompiledProblem) -> LinearTerm | None:
    if problem.latency is None or not len(problem.comm_pairs):
        return LinearTerm(np.zeros(0, np.int64), np.zeros(0))
    lookup = _x_lookup(model, problem)
    triples = []
    for p, (a, b) in enumerate(problem.comm_pairs):
        ia, ib = np.flatnonzero(lookup[:, a] >= 0), np.flatnonzero(lookup[:, b] >= 0)
        lat = problem.latency[np.ix_(ia, ib)]
        for r, c in zip(*np.nonzero(lat > 0), strict=True):
            triples.append((p, lookup[ia[r], a], lookup[ib[c], b], lat[r, c]))
        if len(triples) > MAX_COMM_PAIR_VARS:
            model.notes.append(
                f"communication needs more than {MAX_COMM_PAIR_VARS:,} pair variables: "
                "left out of the CP-SAT objective (evaluate_plan still reports it)"
            )
            return None
    index, coef = [], []
    for p, ka, kb, lat in triples:
        z = model.new_var(0, 1, f"z{p}_{ka}_{kb}")
        # z >= x_a + x_b - 1: both ends placed on this agent pair costs volume * latency.
        model.model.add(model.variables[z] >= model.variables[ka] + model.variables[kb] - 1)
        index.append(z)
        coef.append(float(problem.comm_volume[p]) * float(lat))
    return LinearTerm(np.array(index, dtype=np.int64), np.array(coef))
