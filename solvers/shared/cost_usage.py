"""How a GAP's pair costs move with the capacity they use: the Pearson correlation of cost
and first-resource usage over the eligible pairs.

Clearly negative on Martello and Toth's D and E types (the cheaper pairs use more),
about zero on C. The LNS's tabu bursts run only where costs fall (they pay there), and
the portfolio runs HiGHS beside the LNS on larger GAPs where they do not (HiGHS leads
there); the figures are in BENCHMARKS.md.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem

__all__ = ["COSTS_FALL_BELOW", "cost_usage_correlation"]

#: At or below this correlation, pair costs fall as usage grows (D: about -0.98, E:
#: -0.57; C: about 0).
COSTS_FALL_BELOW = -0.3


def cost_usage_correlation(problem: CompiledProblem, cost: np.ndarray) -> float:
    """Pearson correlation of `cost` (agents x tasks, inf where ineligible) and the first
    resource's usage over the eligible pairs; 0 when either is constant or there is no
    resource."""
    if problem.n_dims == 0:
        return 0.0
    eligible = np.isfinite(cost)
    c, u = cost[eligible].astype(np.float64), problem.usage[:, :, 0][eligible].astype(np.float64)
    if len(c) < 2 or c.std() == 0 or u.std() == 0:
        return 0.0
    return float(np.corrcoef(c, u)[0, 1])
