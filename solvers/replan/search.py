"""Re-plan from a previous plan with a hard budget on moves of the tasks that could stay.

Tasks whose agent vanished, that no longer fit or that break a group rule become
free; free tasks are placed greedily by exact score delta (making room with one
move where needed), then a first-improvement local search spends the move budget.
A kept task counts against the budget once, while it sits away from its previous
agent; the budget holds by construction and is re-checked at the end. On a topology
whose links some plan could overload, moves are kept off agents where a task's traffic
would add link overflow (`link_guard`), and a plan still over bandwidth after the search
gets the shared bandwidth repair within the budget and pins (`bandwidth`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from models.compiled import CompiledProblem
from models.evaluation import Evaluation, evaluate_plan
from models.placement_reasons import feasible_mask
from models.plan_state import PlanState, column_of
from solvers.replan.bandwidth import fit_links, overloads_a_link
from solvers.replan.link_guard import LinkGuard
from solvers.replan.search_limits import MAX_REPAIR_PAIRS

__all__ = ["ReplanOutcome", "replan_assignment"]

_EPS = 1e-9
#: Moves spent at most to make room for one freed task on one agent.
_MAX_EJECTIONS = 3
#: Share of the time kept for the bandwidth repair when some plan could overload a link.
_LINK_SHARE = 0.3


@dataclass
class ReplanOutcome:
    """The new assignment, which tasks were freed and why, and which kept tasks moved."""

    assignment: np.ndarray
    evaluation: Evaluation
    freed: dict[int, str] = field(default_factory=dict)
    moved_kept: list[int] = field(default_factory=list)
    stopped: str = "no improving move left"
    notes: list[str] = field(default_factory=list)


class _Search:
    def __init__(
        self,
        problem: CompiledProblem,
        previous: np.ndarray,
        max_moves: int | None,
        pinned: set[int],
        deadline: float,
    ) -> None:
        self.problem = problem
        self.previous = previous
        self.a = previous.copy()
        self.max_moves = max_moves
        self.pinned = pinned
        self.deadline = deadline
        # Greedy placing gets at most 40% of the time; CP-SAT repair and polishing the rest.
        self.place_deadline = time.perf_counter() + 0.4 * max(deadline - time.perf_counter(), 0)
        self.freed: dict[int, str] = {}
        self.links = LinkGuard(problem)

    # -- budget ------------------------------------------------------------------

    def kept(self, j: int) -> bool:
        return j not in self.freed and j not in self.pinned

    def moves_used(self) -> int:
        return self._moves_used(self.a)

    def _moves_used(self, a: np.ndarray) -> int:
        return sum(1 for j in np.flatnonzero(a != self.previous).tolist() if self.kept(j))

    def may_move(self, j: int, used: int) -> bool:
        return self._may_move(j, used, self.a)

    def _may_move(self, j: int, used: int, a: np.ndarray) -> bool:
        if j in self.pinned:
            return False
        if not self.kept(j) or a[j] != self.previous[j]:
            return True  # free, or already counted
        return self.max_moves is None or used < self.max_moves

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline

    # -- freeing -------------------------------------------------------------------

    def free(self, j: int, reason: str) -> None:
        if j in self.pinned:
            return
        self.freed.setdefault(j, reason)
        self.a[j] = -1

    def free_what_no_longer_fits(self) -> None:
        p = self.problem
        for j in np.flatnonzero(self.a < 0).tolist():
            self.freed.setdefault(j, "had no agent")
        placed = np.flatnonzero(self.a >= 0)
        for j in placed[~p.eligible[self.a[placed], placed]].tolist():
            self.free(j, f"agent {p.agent_ids[self.a[j]]} can no longer take it")
        self._free_overloads()
        self._free_group_breaks()

    def _free_overloads(self) -> None:
        p = self.problem
        cap = p.capacity.astype(np.float64)
        for i in range(p.n_agents):
            while True:
                tasks = np.flatnonzero(self.a == i)
                movable = [j for j in tasks.tolist() if j not in self.pinned]
                used = p.usage[i, tasks].astype(np.float64).sum(axis=0)
                over = used > cap[i] * (1 + 1e-6) + 1e-6
                if not movable or (not over.any() and len(tasks) <= p.max_tasks[i]):
                    break
                dim = int(np.argmax(np.where(over, used - cap[i], -np.inf))) if over.any() else 0
                biggest = max(movable, key=lambda j: float(p.usage[i, j, dim]))
                self.free(biggest, f"agent {p.agent_ids[i]} no longer has room for it")

    def _free_group_breaks(self) -> None:
        p = self.problem
        for group in p.anti_affinity:
            seen: set[int] = set()
            for j in sorted(group.tolist(), key=lambda j: j not in self.pinned):
                if self.a[j] >= 0 and int(self.a[j]) in seen:
                    self.free(j, "anti-affinity with a task on the same agent")
                seen.add(int(self.a[j]))
        for group in p.co_location:
            agents = self.a[group]
            placed = agents[agents >= 0]
            if len(placed) and len(np.unique(agents)) > 1:
                home = int(np.bincount(placed).argmax())
                for j in group.tolist():
                    if self.a[j] != home:
                        self.free(j, "co-location group split")

    # -- placing -------------------------------------------------------------------

    def best_move(self, state: PlanState, j: int) -> tuple[float, int]:
        """(score delta, agent) of the best feasible move of task j; agent -1 if none."""
        col = column_of(state, j)
        detached = state.detach(col)
        agents = np.arange(self.problem.n_agents)
        agents = agents[agents != detached.from_agent]
        if state.needs_full_evaluation:
            deltas = state.evaluated_deltas(j, agents)
        else:
            deltas = state.place_deltas(detached, agents)
        scores = state.score_deltas(deltas)
        ok = feasible_mask(state, col, agents)
        within = self.links.allowed(state.assignment, j, agents[ok])
        if within is not None:  # among agents it may go to, those the links can carry
            ok[np.flatnonzero(ok)[~within]] = False
        if not ok.any():
            return np.inf, -1
        k = int(np.flatnonzero(ok)[np.argmin(scores[ok])])
        return float(scores[k]), int(agents[k])

    def place_free(self) -> None:
        """Place freed tasks, the one with fewest open agents first (it has least choice)."""
        p = self.problem
        pending = [j for j in self.freed if self.a[j] < 0]
        while pending and time.perf_counter() < self.place_deadline:
            state = PlanState(p, self.a)
            pending = [j for j in pending if self.a[j] < 0]
            if not pending:
                return
            j = min(pending, key=lambda k: (self._open_agents(state, k), p.priority_rank[k], k))
            pending.remove(j)
            group = self._free_co_group(j)
            if group is not None:
                self._place_together(group)
                continue
            _, agent = self.best_move(state, j)
            if agent < 0 and not self.repair_available():
                agent = self._make_room(state, j)
            if agent >= 0:
                self.a[j] = agent

    def _open_agents(self, state: PlanState, j: int) -> int:
        col = column_of(state, j)
        return int(feasible_mask(state, col, np.arange(self.problem.n_agents)).sum())

    def _free_co_group(self, j: int) -> np.ndarray | None:
        """j's co-location group when no member is placed (they must land together)."""
        for group in self.problem.co_location:
            if j in group.tolist() and bool(np.all(self.a[group] < 0)):
                return group
        return None

    def _place_together(self, group: np.ndarray) -> None:
        """Put a whole co-location group on the agent where the full plan scores best."""
        p = self.problem
        best: tuple[tuple[bool, float], int] | None = None
        for b in np.flatnonzero(p.eligible[:, group].all(axis=1)).tolist():
            trial = self.a.copy()
            trial[group] = b
            ev = evaluate_plan(p, trial)
            if any(v.agent == p.agent_ids[b] or v.kind == "anti_affinity" for v in ev.violations):
                continue
            key = (overloads_a_link(ev), ev.score)
            if best is None or key < best[0]:
                best = (key, b)
        if best is not None:
            self.a[group] = best[1]

    def _make_room(self, state: PlanState, j: int) -> int:
        """Move up to `_MAX_EJECTIONS` tasks off one agent so j fits there.

        Returns that agent (the moves applied) or -1. Among agents where room can be
        made, the one needing fewest moves wins, then the lowest total score change.
        """
        best: tuple[int, float, np.ndarray, int] | None = None
        for b in np.flatnonzero(self.problem.eligible[:, j]).tolist():
            found = self._eject_for(j, b)
            if found is not None:
                n_moves, delta, trial = found
                if best is None or (n_moves, delta) < (best[0], best[1]):
                    best = (n_moves, delta, trial, b)
            if time.perf_counter() >= self.place_deadline:
                break
        if best is None:
            return -1
        self.a = best[2]
        return best[3]

    def _eject_for(self, j: int, b: int) -> tuple[int, float, np.ndarray] | None:
        """Moves off agent b (largest relief of the short resource first) until j fits."""
        p = self.problem
        trial = self.a.copy()
        total = 0.0
        for n_moves in range(_MAX_EJECTIONS + 1):
            state = PlanState(p, trial)
            col = column_of(state, j)
            if feasible_mask(state, col, np.array([b]))[0]:
                return n_moves, total, trial
            if n_moves == _MAX_EJECTIONS:
                return None
            short = state.capacity_short(col, np.array([b]))[0] > 0
            used = self._moves_used(trial)
            options: list[tuple[float, float, int, int]] = []
            for k in state.agent_tasks[b].tolist():
                if not self._may_move(k, used, trial):
                    continue
                relief = float(p.usage[b, k][short].sum()) if short.any() else 1.0
                if relief <= 0:
                    continue
                delta, c = self.best_move(state, k)
                if c >= 0:
                    options.append((-relief, delta, k, c))
            if not options:
                return None
            _, delta, k, c = min(options)
            trial[k] = c
            total += delta
        return None

    def repair_available(self) -> bool:
        """CP-SAT places what greedy could not (within the budget) on problems it can hold."""
        p = self.problem
        return not p.allow_unassigned and int(p.eligible.sum()) <= MAX_REPAIR_PAIRS

    def repair_if_incomplete(self) -> None:
        """Greedy left tasks out that must be placed: let CP-SAT place them within budget."""
        p = self.problem
        if p.allow_unassigned or bool(np.all(self.a >= 0)):
            return
        # Imported here: OR-Tools (and the pandas it pulls in) cost the CLI a quarter of a
        # second at start, and only this path needs it.
        from solvers.replan.repair import repair_with_budget

        kept = np.array([self.kept(j) for j in range(p.n_tasks)], dtype=bool)
        left = self.deadline - time.perf_counter()
        repaired = repair_with_budget(
            p, self.previous, self.a, kept, self.pinned, self.max_moves, left * 0.8
        )
        if repaired is None:
            return
        before = evaluate_plan(p, self.a)
        after = evaluate_plan(p, repaired)
        if len(after.violations) < len(before.violations) and (
            self.max_moves is None or self._moves_used(repaired) <= self.max_moves
        ):
            self.a = repaired

    def improve(self) -> str:
        """Best single moves first, within the budget, until none improves or time is up.

        Each round scans tasks from where the last one stopped, for at most 60% of the
        time left, so the moves it finds can still be applied on large problems.
        """
        p = self.problem
        start_at = 0
        while not self.out_of_time():
            state = PlanState(p, self.a)
            used = self.moves_used()
            scan_until = time.perf_counter() + 0.6 * (self.deadline - time.perf_counter())
            found: list[tuple[float, int]] = []
            scanned = 0
            while scanned < p.n_tasks and time.perf_counter() < scan_until:
                j = (start_at + scanned) % p.n_tasks
                scanned += 1
                if self.may_move(j, used):
                    delta, agent = self.best_move(state, j)
                    if agent >= 0 and delta < -_EPS:
                        found.append((delta, j))
            complete = scanned == p.n_tasks
            start_at = (start_at + scanned) % max(p.n_tasks, 1)
            if not self._apply(found) and complete:
                return "no improving move left"
        return "time limit"

    def _apply(self, found: list[tuple[float, int]]) -> int:
        """Apply the found moves best first, each re-checked on the current plan."""
        accepted = 0
        for _, j in sorted(found):
            if self.out_of_time():
                break
            if not self.may_move(j, self.moves_used()):
                continue
            delta, agent = self.best_move(PlanState(self.problem, self.a), j)
            if agent >= 0 and delta < -_EPS:
                self.a[j] = agent
                accepted += 1
        return accepted


def replan_assignment(
    problem: CompiledProblem,
    previous: np.ndarray,
    *,
    max_moves: int | None = None,
    pinned: set[int] | None = None,
    time_limit_s: float = 2.0,
    freed: dict[int, str] | None = None,
) -> ReplanOutcome:
    """A new assignment near `previous` (int[n], -1 = no agent) that moves at most
    `max_moves` of the tasks that could have stayed; `pinned` tasks never move."""
    if max_moves is not None and max_moves < 0:
        raise ValueError(f"max_moves is {max_moves}; use 0 or more")
    started = time.perf_counter()
    search = _Search(
        problem,
        np.asarray(previous, dtype=np.int64),
        max_moves,
        pinned or set(),
        started + time_limit_s,
    )
    search.freed.update(freed or {})
    search.free_what_no_longer_fits()
    search.place_free()
    search.repair_if_incomplete()  # placing every task comes first: it keeps the whole time
    guard_links = search.links.active
    if guard_links:  # the local search leaves time to the bandwidth repair
        search.deadline = started + time_limit_s * (1 - _LINK_SHARE)
    stopped = search.improve()
    notes: list[str] = []
    if guard_links:
        notes, stopped = _fit_links(search, started + time_limit_s, stopped)
    used = search.moves_used()
    if max_moves is not None and used > max_moves:  # the search never allows it
        raise AssertionError(f"re-plan moved {used} kept tasks, budget {max_moves}")
    moved = [j for j in np.flatnonzero(search.a != search.previous).tolist() if search.kept(j)]
    return ReplanOutcome(
        assignment=search.a,
        evaluation=evaluate_plan(problem, search.a),
        freed=search.freed,
        moved_kept=moved,
        stopped=stopped,
        notes=notes,
    )


def _fit_links(search: _Search, deadline: float, stopped: str) -> tuple[list[str], str]:
    """The bandwidth phase on the search's plan; when nothing needed repair and the search
    ran out of time, the time kept for it goes back to the search (kept only if the plan
    still fits every link)."""
    kept = np.array([search.kept(j) for j in range(search.problem.n_tasks)], dtype=bool)
    left = max(deadline - time.perf_counter(), 0.05)
    fit = fit_links(
        search.problem, search.previous, search.a, kept, search.pinned, search.max_moves, left
    )
    search.a = fit.assignment
    if fit.notes or stopped != "time limit" or time.perf_counter() >= deadline:
        return fit.notes, stopped
    before = search.a.copy()
    search.deadline = deadline
    stopped = search.improve()
    if overloads_a_link(evaluate_plan(search.problem, search.a)):
        search.a = before  # the guard measures shortest paths; the evaluator judges
    return fit.notes, stopped
