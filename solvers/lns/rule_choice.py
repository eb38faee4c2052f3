"""Which neighbourhood rule the next LNS step uses: adaptive roulette (as in ALNS).

Each rule's weight follows the cost its recent sub-solves removed per second they
took, so time goes to the rules that pay on this request (on D-type GAPs the spread
task rules found most improvements, random agent sets almost none). Every rule keeps
a floor share, because a rule that stalled may pay again once the incumbent moves.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RuleChooser"]

#: Share of the picks spread evenly over all rules whatever their record.
FLOOR = 0.15
#: Weight of the newest outcome in a rule's running gain rate.
RECENT = 0.3


class RuleChooser:
    """Roulette over `rules`: the first round tries each once, then picks by gain rate."""

    def __init__(self, rules: tuple[str, ...], rng: np.random.Generator):
        if not rules:
            raise ValueError("RuleChooser needs at least one rule")
        self.rules = rules
        self.rng = rng
        self.rate = np.zeros(len(rules))  # running cost removed per second, per rule
        self.tried = np.zeros(len(rules), dtype=np.int64)
        self.picks = 0

    def pick(self) -> str:
        """The next step's rule."""
        self.picks += 1
        if self.picks <= len(self.rules):  # picks may run ahead of rewards (lanes)
            return self.rules[self.picks - 1]
        return self.rules[int(self.rng.choice(len(self.rules), p=self.shares()))]

    def shares(self) -> np.ndarray:
        """Probability of each rule at the next pick (sums to 1)."""
        even = np.full(len(self.rules), 1.0 / len(self.rules))
        total = float(self.rate.sum())
        if total <= 0:
            return even
        return FLOOR * even + (1 - FLOOR) * self.rate / total

    def reward(self, rule: str, gain: float, seconds: float) -> None:
        """Record that a step of `rule` removed `gain` (>= 0) in `seconds`."""
        k = self.rules.index(rule)
        speed = max(gain, 0.0) / max(seconds, 1e-3)
        first = self.tried[k] == 0
        self.rate[k] = speed if first else (1 - RECENT) * self.rate[k] + RECENT * speed
        self.tried[k] += 1
