"""Units (a task, or a co-location group as one super-task) and a mutable plan state.

The heuristics move units, never single tasks, so co-location holds by construction.
Without co-location groups every array is a view of the compiled problem (no copy).
scipy is imported only for requests with co-location or anti-affinity groups: its
import (about 0.16 s of CPU, most of it numpy.f2py through scipy's array-API layer)
is a third of a small request's time limit on the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from models.compiled import CompiledProblem

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["FIT_TOLERANCE", "PlanState", "TaskUnits", "build_units"]

#: Slack allowed when testing a fit; far below the evaluator's 1e-6 tolerance.
FIT_TOLERANCE = 1e-7


@dataclass
class TaskUnits:
    """Per-unit arrays over m agents and U units (U = n without co-location)."""

    cost: np.ndarray  # float32[m, U]
    usage: np.ndarray  # float32[m, U, d]
    duration: np.ndarray  # float32[m, U]
    eligible: np.ndarray  # bool[m, U]
    size: np.ndarray  # int64[U] tasks in the unit
    weight: np.ndarray  # float64[U] summed task weights
    rank: np.ndarray  # int8[U] best (lowest) priority rank among members
    unit_of_task: np.ndarray  # int64[n]
    # Anti-affinity membership counts int32[U, G] as CSR arrays: unit u's groups are
    # aa_indices[aa_indptr[u]:aa_indptr[u + 1]]; `aa` is the same as a scipy matrix.
    aa_indptr: np.ndarray  # int32[U + 1]
    aa_indices: np.ndarray  # int32[nnz]
    aa_counts: np.ndarray  # int32[nnz]
    n_groups: int  # G
    capacity: np.ndarray  # float64[m, d]
    max_tasks: np.ndarray  # int64[m]
    self_conflict: np.ndarray  # bool[U] two members share an anti-affinity group

    @property
    def n_units(self) -> int:
        return int(self.size.shape[0])

    @property
    def n_agents(self) -> int:
        return int(self.capacity.shape[0])

    def groups_of(self, u: int) -> np.ndarray:
        """Anti-affinity groups unit u belongs to."""
        return self.aa_indices[self.aa_indptr[u] : self.aa_indptr[u + 1]]

    @cached_property
    def aa(self) -> sp.csr_matrix:
        """Membership counts as a scipy matrix, for the moves that need matrix products
        (only reached when `n_groups` > 0)."""
        import scipy.sparse as sp  # lazily: see the module docstring

        shape = (self.n_units, self.n_groups)
        return sp.csr_matrix((self.aa_counts, self.aa_indices, self.aa_indptr), shape=shape)

    def to_assignment(self, unit_assign: np.ndarray) -> np.ndarray:
        """Agent per task (int32[n]) from agent per unit."""
        return np.asarray(unit_assign, dtype=np.int32)[self.unit_of_task]

    def from_assignment(self, assignment: np.ndarray) -> np.ndarray:
        """Agent per unit from agent per task; a split group takes its first member's agent."""
        out = np.full(self.n_units, -1, dtype=np.int32)
        a = np.asarray(assignment, dtype=np.int32)
        # Reverse order so the first member wins the scatter.
        out[self.unit_of_task[::-1]] = a[::-1]
        return out


def build_units(problem: CompiledProblem) -> TaskUnits:
    """Merge co-location groups (transitively) into units. O(m * n * d) with groups."""
    n = problem.n_tasks
    if problem.co_location:
        import scipy.sparse as sp  # lazily: see the module docstring

        unit_of_task = _co_location_labels(n, problem.co_location)
        n_units = int(unit_of_task.max()) + 1
        member = sp.csr_matrix(
            (np.ones(n, dtype=np.float32), (np.arange(n), unit_of_task)), shape=(n, n_units)
        )
        cost = np.asarray(problem.cost @ member, dtype=np.float32)
        duration = np.asarray(problem.duration @ member, dtype=np.float32)
        usage = np.stack(
            [np.asarray(problem.usage[:, :, k] @ member) for k in range(problem.n_dims)], axis=2
        ).astype(np.float32)
        blocked = np.asarray((~problem.eligible).astype(np.float32) @ member)
        eligible = blocked == 0
        size = np.bincount(unit_of_task, minlength=n_units).astype(np.int64)
        weight = np.bincount(unit_of_task, weights=problem.task_weight, minlength=n_units)
        rank = np.full(n_units, 3, dtype=np.int8)
        np.minimum.at(rank, unit_of_task, problem.priority_rank)
    else:
        unit_of_task = np.arange(n, dtype=np.int64)
        n_units = n
        cost, usage, duration = problem.cost, problem.usage, problem.duration
        eligible = problem.eligible
        size = np.ones(n, dtype=np.int64)
        weight = problem.task_weight.astype(np.float64)
        rank = problem.priority_rank.astype(np.int8)
    indptr, indices, counts = _anti_affinity_csr(problem.anti_affinity, unit_of_task, n_units)
    # A unit counted twice in one group holds two of its members.
    self_conflict = np.zeros(n_units, dtype=bool)
    self_conflict[np.repeat(np.arange(n_units), np.diff(indptr))[counts > 1]] = True
    return TaskUnits(
        cost=cost,
        usage=usage,
        duration=duration,
        eligible=eligible,
        size=size,
        weight=weight,
        rank=rank,
        unit_of_task=unit_of_task,
        aa_indptr=indptr,
        aa_indices=indices,
        aa_counts=counts,
        n_groups=len(problem.anti_affinity),
        capacity=problem.capacity.astype(np.float64),
        max_tasks=problem.max_tasks.astype(np.int64),
        self_conflict=self_conflict,
    )


def _anti_affinity_csr(
    groups: list[np.ndarray], unit_of_task: np.ndarray, n_units: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays (indptr, group ids, member counts) of units x anti-affinity groups."""
    if not groups:
        return (
            np.zeros(n_units + 1, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
        )
    import scipy.sparse as sp  # lazily: see the module docstring

    rows = np.concatenate([unit_of_task[group] for group in groups])
    cols = np.concatenate([np.full(len(group), g) for g, group in enumerate(groups)])
    ones = np.ones(len(rows), dtype=np.int32)
    aa = sp.csr_matrix((ones, (rows, cols)), shape=(n_units, len(groups)))
    aa.sum_duplicates()
    return aa.indptr, aa.indices, aa.data


def _co_location_labels(n: int, groups: list[np.ndarray]) -> np.ndarray:
    """Connected components of the co-location relation, labelled 0..U-1."""
    import scipy.sparse as sp  # lazily: see the module docstring
    from scipy.sparse.csgraph import connected_components

    rows = np.concatenate([g[:-1] for g in groups])
    cols = np.concatenate([g[1:] for g in groups])
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


class PlanState:
    """Where each unit is (-1 = unassigned) and the resulting per-agent totals.

    Updates are O(d + groups of the unit); `check()` recomputes everything from
    scratch and is meant for tests.
    """

    def __init__(self, units: TaskUnits, assign: np.ndarray | None = None):
        self.units = units
        m, d = units.capacity.shape
        self.assign = np.full(units.n_units, -1, dtype=np.int32)
        self.used = np.zeros((m, d), dtype=np.float64)
        self.load = np.zeros(m, dtype=np.float64)
        self.count = np.zeros(m, dtype=np.int64)
        self.group_count = np.zeros((units.n_groups, m), dtype=np.int32)
        if assign is not None:
            for u in np.flatnonzero(np.asarray(assign) >= 0):
                self.place(int(u), int(assign[u]))

    def copy_assign(self) -> np.ndarray:
        return self.assign.copy()

    def remaining(self) -> np.ndarray:
        return self.units.capacity - self.used

    def _groups(self, u: int) -> np.ndarray:
        return self.units.groups_of(u)

    def place(self, u: int, i: int) -> None:
        un = self.units
        self.assign[u] = i
        self.used[i] += un.usage[i, u]
        self.load[i] += un.duration[i, u]
        self.count[i] += un.size[u]
        if self.group_count.shape[0]:  # numpy's fixed cost per call dominates tiny plans
            self.group_count[self._groups(u), i] += 1

    def remove(self, u: int) -> None:
        i = int(self.assign[u])
        if i < 0:
            return
        un = self.units
        self.used[i] -= un.usage[i, u]
        self.load[i] -= un.duration[i, u]
        self.count[i] -= un.size[u]
        if self.group_count.shape[0]:
            self.group_count[self._groups(u), i] -= 1
        self.assign[u] = -1

    def move(self, u: int, i: int) -> None:
        self.remove(u)
        if i >= 0:
            self.place(u, i)

    def fits(self, u: int, i: int, ignore: tuple[int, ...] = ()) -> bool:
        """Whether unit u can join agent i now (as if units in `ignore` had left it)."""
        un = self.units
        if not un.eligible[i, u]:
            return False
        if not ignore and not self.group_count.shape[0]:
            # The common case without anti-affinity groups, with no temporaries.
            if self.count[i] + un.size[u] > un.max_tasks[i]:
                return False
            return bool((self.used[i] + un.usage[i, u] <= un.capacity[i] + FIT_TOLERANCE).all())
        used = self.used[i].copy()
        count = self.count[i]
        groups = self.group_count[self._groups(u), i].copy()
        for v in ignore:
            if self.assign[v] == i:
                used -= un.usage[i, v]
                count -= un.size[v]
                shared = np.isin(self._groups(u), self._groups(v))
                groups[shared] -= 1
        if count + un.size[u] > un.max_tasks[i]:
            return False
        if np.any(groups > 0):
            return False
        return bool(np.all(used + un.usage[i, u] <= un.capacity[i] + FIT_TOLERANCE))

    def fits_after_removal(self, u: int, i: int) -> bool:
        """Whether unit u, now on agent i, would fit there again if taken out."""
        self.remove(u)
        ok = self.fits(u, i)
        self.place(u, i)
        return ok

    def forbidden(self, cols: np.ndarray) -> np.ndarray | None:
        """bool[len(cols), m]: agent i holds an anti-affinity partner of unit cols[k]."""
        if self.units.n_groups == 0:
            return None
        sub = self.units.aa[cols]
        conflicts = np.asarray((sub @ self.group_count).astype(np.int64))
        placed = self.assign[cols] >= 0
        if placed.any():
            own = np.asarray(sub.sum(axis=1)).ravel()
            rows = np.flatnonzero(placed)
            conflicts[rows, self.assign[cols][rows]] -= own[rows]
        return conflicts > 0

    def check(self) -> None:
        """Recompute totals from `assign` and compare (for tests)."""
        fresh = PlanState(self.units, self.assign)
        assert np.allclose(fresh.used, self.used), "used drifted"
        assert np.allclose(fresh.load, self.load), "load drifted"
        assert np.array_equal(fresh.count, self.count), "count drifted"
        assert np.array_equal(fresh.group_count, self.group_count), "group counts drifted"
