"""The heuristics' view of the objective: a linear part per (agent, unit) plus load terms.

Cost, migrations and the unassigned penalty are linear in the placement and exact.
Makespan, imbalance and consolidation are computed exactly for single moves from
the per-agent totals; communication exactly for a shift. Weighted completion and
tardiness depend on the run order inside each agent and are left to the
evaluator (the heuristics do not chase them). Lexicographic mode uses steeply
decreasing weights along the order, which approximates the order for local moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.compiled import CompiledProblem
from models.schema import OBJECTIVE_NAMES
from solvers.heuristic.task_units import PlanState, TaskUnits

__all__ = ["ScoreModel", "build_score_model", "scoring_weights"]

#: Score of an unplaced unit when leaving it out is not allowed, per task weight.
_UNPLACED_PENALTY = 1e7


def scoring_weights(problem: CompiledProblem) -> dict[str, float]:
    """Weights the heuristics use for each objective name."""
    spec = problem.objectives
    if spec.mode == "lexicographic":
        return {name: 1e-4**k for k, name in enumerate(spec.order)}
    return {name: float(w) for name, w in zip(OBJECTIVE_NAMES, spec.weights, strict=True) if w}


@dataclass
class ScoreModel:
    """Scores placements: `linear[i, u]` plus the load-dependent terms."""

    linear: np.ndarray  # float32[m, U]
    unassigned: np.ndarray  # float64[U] score of leaving a unit out
    w_makespan: float
    w_imbalance: float
    w_consolidation: float
    w_communication: float
    comm_pairs: np.ndarray  # int64[k, 2] unit pairs
    comm_volume: np.ndarray  # float64[k]
    latency: np.ndarray | None  # float64[m, m]
    allow_unassigned: bool

    @property
    def has_load_terms(self) -> bool:
        return bool(self.w_makespan or self.w_imbalance or self.w_consolidation)

    @property
    def has_communication(self) -> bool:
        return bool(self.w_communication and self.latency is not None and len(self.comm_pairs))

    @property
    def separable(self) -> bool:
        """Moves on disjoint agents add up exactly (no max over agents, no pairs)."""
        return not (self.w_makespan or self.w_imbalance or self.has_communication)

    def current(self, state: PlanState, cols: np.ndarray) -> np.ndarray:
        """Linear score of units `cols` where they are now (float64)."""
        a = state.assign[cols]
        out = self.unassigned[cols].copy()
        on = a >= 0
        out[on] = self.linear[a[on], cols[on]]
        return out

    def total(self, state: PlanState) -> float:
        cols = np.arange(state.units.n_units)
        value = float(self.current(state, cols).sum())
        value += self.load_value(state.load, state.used, state.count)
        if self.has_communication:
            value += self.w_communication * self.communication(state.assign)
        return value

    def load_value(self, load: np.ndarray, used: np.ndarray, count: np.ndarray) -> float:
        value = 0.0
        if len(load):
            value += self.w_makespan * load.max() + self.w_imbalance * (load.max() - load.mean())
        if self.w_consolidation:
            value += self.w_consolidation * float(self._idle(used, count).sum())
        return value

    def communication(self, unit_assign: np.ndarray) -> float:
        assert self.latency is not None
        left = unit_assign[self.comm_pairs[:, 0]]
        right = unit_assign[self.comm_pairs[:, 1]]
        both = (left >= 0) & (right >= 0)
        return float((self.comm_volume[both] * self.latency[left[both], right[both]]).sum())

    def neighbour_latency(self, state: PlanState) -> np.ndarray:
        """float64[m, U]: traffic-weighted latency unit u would see on agent i."""
        assert self.latency is not None
        m, n_units = state.units.n_agents, state.units.n_units
        out = np.zeros((m, n_units), dtype=np.float64)
        for side in (0, 1):
            me, other = self.comm_pairs[:, side], self.comm_pairs[:, 1 - side]
            where = state.assign[other]
            ok = where >= 0
            np.add.at(out.T, me[ok], (self.latency[:, where[ok]] * self.comm_volume[ok]).T)
        return out

    def _idle(self, used: np.ndarray, count: np.ndarray, agents: np.ndarray | None = None):
        cap = self._cap if agents is None else self._cap[agents]
        dims = self._dims if agents is None else self._dims[agents]
        ratio = np.where(cap > 0, used / np.where(cap > 0, cap, 1.0), 0.0).sum(axis=-1) / dims
        return np.where(count > 0, 1.0 - np.minimum(ratio, 1.0), 0.0)

    def bind(self, units: TaskUnits) -> None:
        self._cap = units.capacity
        self._dims = np.maximum((units.capacity > 0).sum(axis=1), 1)

    def load_delta(
        self,
        state: PlanState,
        a: np.ndarray,
        b: np.ndarray,
        load_a: np.ndarray,
        load_b: np.ndarray,
        used_a: np.ndarray | None = None,
        used_b: np.ndarray | None = None,
        count_a: np.ndarray | None = None,
        count_b: np.ndarray | None = None,
    ) -> np.ndarray:
        """Change of the load terms when agents a and b (-1 = none) get new totals.

        Arrays broadcast together; `used_*`/`count_*` are needed for consolidation.
        """
        load = state.load
        m = len(load)
        shape = np.broadcast_shapes(a.shape, b.shape, load_a.shape, load_b.shape)
        delta = np.zeros(shape, dtype=np.float64)
        if self.w_makespan or self.w_imbalance:
            top = np.argsort(load)[::-1][:3]
            top_val = np.full(3, -np.inf)
            top_idx = np.full(3, -2)
            top_val[: len(top)] = load[top]
            top_idx[: len(top)] = top
            other = np.full(shape, -np.inf)
            for k in range(2, -1, -1):
                ok = (top_idx[k] != a) & (top_idx[k] != b)
                other = np.where(ok, top_val[k], other)
            la = np.where(a >= 0, load_a, -np.inf)
            lb = np.where(b >= 0, load_b, -np.inf)
            new_max = np.maximum(other, np.maximum(la, lb))
            old_a = np.where(a >= 0, load[np.maximum(a, 0)], 0.0)
            old_b = np.where(b >= 0, load[np.maximum(b, 0)], 0.0)
            change = np.where(a >= 0, load_a - old_a, 0.0) + np.where(b >= 0, load_b - old_b, 0.0)
            old_max = load.max()
            delta += self.w_makespan * (new_max - old_max)
            delta += self.w_imbalance * (new_max - old_max - change / m)
        if self.w_consolidation:
            assert used_a is not None and used_b is not None
            assert count_a is not None and count_b is not None
            for ag, used_new, count_new in ((a, used_a, count_a), (b, used_b, count_b)):
                safe = np.maximum(ag, 0)
                old = self._idle(state.used[safe], state.count[safe], safe)
                new = self._idle(used_new, count_new, safe)
                delta += self.w_consolidation * np.where(ag >= 0, new - old, 0.0)
        return delta


def build_score_model(problem: CompiledProblem, units: TaskUnits) -> ScoreModel:
    """Linear part and weights from the problem's objective specification."""
    w = scoring_weights(problem)
    linear = units.cost
    w_cost = w.get("cost", 0.0)
    if w_cost != 1.0:
        linear = (units.cost * np.float32(w_cost)).astype(np.float32)
    w_mig = w.get("migrations", 0.0)
    if w_mig and np.any(problem.current >= 0):
        moved = _migrations_matrix(problem, units)
        linear = (linear + np.float32(w_mig) * moved).astype(np.float32)
    if not problem.allow_unassigned:
        unassigned = units.weight * _UNPLACED_PENALTY + 1e9
    else:
        unassigned = w.get("unassigned", 1.0) * units.weight * problem.unassigned_penalty
    pairs = units.unit_of_task[problem.comm_pairs] if len(problem.comm_pairs) else np.zeros((0, 2))
    keep = pairs[:, 0] != pairs[:, 1] if len(pairs) else np.zeros(0, dtype=bool)
    model = ScoreModel(
        linear=linear,
        unassigned=np.asarray(unassigned, dtype=np.float64),
        w_makespan=w.get("makespan", 0.0),
        w_imbalance=w.get("imbalance", 0.0),
        w_consolidation=w.get("consolidation", 0.0),
        w_communication=w.get("communication", 0.0),
        comm_pairs=pairs[keep].astype(np.int64),
        comm_volume=problem.comm_volume[keep] if len(pairs) else np.zeros(0),
        latency=problem.latency,
        allow_unassigned=problem.allow_unassigned,
    )
    model.bind(units)
    return model


def _migrations_matrix(problem: CompiledProblem, units: TaskUnits) -> np.ndarray:
    """float32[m, U]: member tasks of unit u that would migrate if u went to agent i."""
    m = problem.n_agents
    has = problem.current >= 0
    movable = np.bincount(
        units.unit_of_task, weights=has.astype(np.float64), minlength=units.n_units
    )
    stay = np.zeros((m, units.n_units), dtype=np.float32)
    j = np.flatnonzero(has)
    np.add.at(stay, (problem.current[j], units.unit_of_task[j]), 1.0)
    return (movable[None, :] - stay).astype(np.float32)
