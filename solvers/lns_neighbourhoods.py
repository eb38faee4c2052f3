"""Which agents' tasks to free in one LNS step: random, reduced-cost regret, LP disagreement.

Rules return an agent set; the step frees every task on those agents (plus a few
unassigned ones) so the sub-problem is a small exact GAP over those agents.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem

__all__ = ["RULES", "NeighbourhoodPicker"]

RULES = ("lp", "reduced_cost", "random")


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
        self.reduced = reduced  # float32[m, n], inf where ineligible
        self.x_frac = x_frac  # float32[m, n] or None
        self.preferred = None if reduced is None else reduced.argmin(axis=0)

    def pick(self, assignment: np.ndarray, size: int, rule: str) -> np.ndarray:
        m = self.problem.n_agents
        size = min(size, m)
        if size >= m:
            return np.arange(m)
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
