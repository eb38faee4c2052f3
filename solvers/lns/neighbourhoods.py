"""Which tasks to free in one LNS step: by agent (random, reduced-cost regret, LP
disagreement) or by task (a spread of tasks, each free to move among its cheapest agents,
drawn by reduced-cost regret or, like RINS, by where the plan leaves the LP solution).

"The LP solution" of the LP rules is the LP relaxation's, except where pair costs do not
fall as usage grows (C-type GAPs) and the knapsack relaxation
(`solvers.bounds.knapsack_bound`) packs nearly every task exactly once at its best
multipliers: from then on those tasks follow its packing (`follow`), a tighter
relaxation than the LP.

Agent rules return an agent set whose tasks are all freed (a small exact GAP over
those agents); the task rule frees tasks on every agent, so one sub-solve can make
the long shift chains (ejection chains) that no small agent set contains.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem

__all__ = ["RULES", "TASK_RULES", "NeighbourhoodPicker"]

RULES = ("lp", "reduced_cost", "tasks", "lp_tasks", "random")
#: Rules that free a spread of tasks (not whole agents).
TASK_RULES = frozenset({"tasks", "lp_tasks"})
#: Cheapest agents (by reduced cost) a freed task may move to in a task-rule step.
CANDIDATES = 6
#: The LP rules follow the knapsack relaxation's packing when it packs at least this
#: share of the tasks exactly once and the cost-usage correlation (`tabu.py`) is above
#: FOLLOW_MIN_CORRELATION. LNS alone, 10 s, seeds 0-3, the LP solution replaced by the
#: packing (`/tmp/h14/kpack.py`): on C, where it packs 94-98 % of the tasks once,
#: c30900 0.098 -> 0.063 %, c60900 0.089 -> 0.048 %, c401600 0.055 -> 0.043 %, c201600
#: 0.020 -> 0.031 %; on E (correlation about -0.57) it packed 86-98 % once and was worse
#: (e30900 0.063 -> 0.099 %, e15900 0.011 -> 0.020 %, e60900 and e801600 no better);
#: on d60900 it packed 4 %.
FOLLOW_SHARE = 0.9
FOLLOW_MIN_CORRELATION = -0.3
#: Once the knapsack bound's multipliers u and each agent's knapsack value V_i(u) are
#: known, this share of the random and regret steps draws its agents by their share of
#: the duality gap instead: agent i's is sum over its tasks of (cost_ij - u_j) plus
#: V_i(u), never negative, and the shares add up to the plan's score minus the bound at
#: u, so they show where the plan is furthest from the relaxation. LNS alone, 10 s,
#: seeds 0-3 (session 19): d20100 0.332 -> 0.230 %, d20200 0.300 -> 0.257, d40400 0.469
#: -> 0.451; e40400 (seeds 2-3) 0.092 -> 0.108.
DUALITY_GAP_SHARE = 0.5


class NeighbourhoodPicker:
    """Chooses agent sets from the incumbent, reduced costs and the LP solution."""

    def __init__(
        self,
        problem: CompiledProblem,
        rng: np.random.Generator,
        reduced: np.ndarray | None,
        x_frac: np.ndarray | None,
    ):
        self.problem = problem
        self.rng = rng
        self.x_frac = x_frac  # float32[m, n] or None
        self.duals: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # use_duals
        self.reprice(reduced)

    def use_duals(self, cost: np.ndarray, multipliers: np.ndarray, values: np.ndarray) -> None:
        """From now on, DUALITY_GAP_SHARE of the random and regret steps draw agents by
        their share of the duality gap: `cost` float[m, n] per-pair score, `multipliers`
        float[n] the knapsack bound's u, `values` float[m] each agent's knapsack value."""
        self.duals = (cost.astype(np.float64), multipliers.astype(np.float64), values)

    def gap_shares(self, assignment: np.ndarray) -> np.ndarray:
        """float[m]: each agent's share of the plan's score minus the bound at the
        multipliers (`use_duals`; every task placed)."""
        assert self.duals is not None
        cost, u, values = self.duals
        cols = np.arange(len(assignment))
        here = cost[assignment, cols] - u
        return np.bincount(assignment, weights=here, minlength=self.problem.n_agents) + values

    def reprice(self, reduced: np.ndarray | None) -> None:
        """Rank each task's agents by `reduced` (float[m, n], inf where ineligible; None:
        by cost): the capacity dual's reduced costs at first, the knapsack bound's
        forced-pair penalties once they exist."""
        problem = self.problem
        self.reduced = reduced
        self.preferred = None if reduced is None else reduced.argmin(axis=0)
        price = reduced if reduced is not None else np.where(problem.eligible, problem.cost, np.inf)
        width = min(CANDIDATES, problem.n_agents)
        # Each task's cheapest agents: the moves a task step may make.
        self.candidates = np.argsort(price, axis=0, kind="stable")[:width].astype(np.int64)
        self.price = price

    def follow(self, packed: np.ndarray, correlation: float) -> bool:
        """Let the LP rules follow the knapsack relaxation's packing (`packed[j]`: the
        agent that alone packs task j, -1 for none or several) when it packs at least
        FOLLOW_SHARE of the tasks and the cost-usage `correlation` is above
        FOLLOW_MIN_CORRELATION; the other tasks keep the LP's columns. Whether it does."""
        once = packed >= 0
        if once.mean() < FOLLOW_SHARE or correlation <= FOLLOW_MIN_CORRELATION:
            return False
        shape = (self.problem.n_agents, self.problem.n_tasks)
        x = np.zeros(shape, np.float32) if self.x_frac is None else self.x_frac.copy()
        x[:, once] = 0.0
        x[packed[once], np.flatnonzero(once)] = 1.0
        self.x_frac = x
        return True

    def pick_tasks(
        self, assignment: np.ndarray, count: int, by_lp: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """(free tasks, agents): `count` tasks spread over all agents, drawn with weight
        growing with how far each sits above its cheapest reduced cost, or (`by_lp`)
        with how little LP weight its current pair has."""
        cols = np.flatnonzero(assignment >= 0)
        count = int(min(count, len(cols)))
        if count <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if by_lp and self.x_frac is not None:
            off = 1.0 - self.x_frac[assignment[cols], cols].astype(np.float64)
            weight = np.clip(off, 0.0, 1.0)
        else:
            here = self.price[assignment[cols], cols]
            best = self.price[self.candidates[0, cols], cols]
            weight = np.nan_to_num(np.maximum(here - best, 0.0), posinf=0.0).astype(np.float64)
        # The floor keeps every task drawable: a task at its cheapest agent may still
        # have to move to make room in a chain.
        weight = weight + max(float(weight.mean()), 1e-9)
        free = self.rng.choice(cols, size=count, replace=False, p=weight / weight.sum())
        agents = np.unique(np.r_[self._moves(free).ravel(), assignment[free]])
        return np.sort(free), agents

    def _moves(self, free: np.ndarray) -> np.ndarray:
        """int[k, len(free)]: the agents each freed task may move to (its cheapest by
        reduced cost, and the LP's choice when there is an LP solution)."""
        if self.x_frac is None:
            return self.candidates[:, free]
        return np.vstack([self.candidates[:, free], self.x_frac[:, free].argmax(axis=0)])

    def allowed(self, assignment: np.ndarray, free: np.ndarray, agents: np.ndarray) -> np.ndarray:
        """bool[len(agents), len(free)]: each freed task's current and cheapest agents."""
        cands = np.vstack([self._moves(free), assignment[free][None, :]])
        mask = np.zeros((len(agents), len(free)), dtype=bool)
        mask[np.searchsorted(agents, cands), np.arange(len(free))[None, :]] = True
        return mask

    def pick(self, assignment: np.ndarray, size: int, rule: str) -> np.ndarray:
        m = self.problem.n_agents
        size = min(size, m)
        if size >= m:
            return np.arange(m)
        if (
            self.duals is not None
            and rule in ("random", "reduced_cost")
            and (assignment >= 0).all()
            and self.rng.random() < DUALITY_GAP_SHARE
        ):
            return self._by_duality_gap(assignment, size)
        if rule == "lp" and self.x_frac is not None:
            chosen = self._lp_disagreement(assignment, size)
        elif rule == "reduced_cost" and self.reduced is not None:
            chosen = self._regret(assignment, size)
        else:
            chosen = []
        return self._fill(chosen, size)

    def _fill(self, chosen: list[int], size: int) -> np.ndarray:
        """Top up with random agents so every rule returns `size` agents."""
        out = list(dict.fromkeys(chosen))[:size]
        if len(out) < size:
            rest = np.setdiff1d(np.arange(self.problem.n_agents), out)
            out.extend(self.rng.choice(rest, size - len(out), replace=False).tolist())
        return np.array(sorted(out), dtype=np.int64)

    def _by_duality_gap(self, assignment: np.ndarray, size: int) -> np.ndarray:
        """`size` agents drawn without replacement, each with weight its gap share plus a
        tenth of the mean share (so every agent stays drawable)."""
        share = np.maximum(self.gap_shares(assignment), 0.0) + 1e-9
        weight = share + 0.1 * share.mean()
        chosen = self.rng.choice(len(weight), size=size, replace=False, p=weight / weight.sum())
        return np.sort(chosen).astype(np.int64)

    def _lp_disagreement(self, assignment: np.ndarray, size: int) -> list[int]:
        # Tasks the LP would place elsewhere pull in both their agents.
        assert self.x_frac is not None
        placed = assignment >= 0
        cols = np.flatnonzero(placed)
        support = self.x_frac[assignment[cols], cols]
        off = cols[support < 0.5]
        if not len(off):
            return []
        chosen: list[int] = []
        for j in self.rng.permutation(off):
            chosen.append(int(assignment[j]))
            chosen.append(int(self.x_frac[:, j].argmax()))
            if len(set(chosen)) >= size:
                break
        return chosen

    def _regret(self, assignment: np.ndarray, size: int) -> list[int]:
        # An agent whose tasks sit far above their best reduced cost, plus the agents
        # those tasks would rather be on.
        assert self.reduced is not None and self.preferred is not None
        cols = np.flatnonzero(assignment >= 0)
        here = self.reduced[assignment[cols], cols]
        best = self.reduced[self.preferred[cols], cols]
        regret = np.maximum(here - best, 0.0).astype(np.float64)
        score = np.bincount(assignment[cols], weights=regret, minlength=self.problem.n_agents)
        if score.sum() <= 0:
            return []
        first = int(self.rng.choice(len(score), p=score / score.sum()))
        chosen = [first]
        mine = cols[assignment[cols] == first]
        pulls = self.preferred[mine][np.argsort(-regret[assignment[cols] == first])]
        for agent in pulls:
            if len(set(chosen)) >= size:
                break
            chosen.append(int(agent))
        return chosen
