"""Statistics for batch comparisons: shifted geometric means, paired Wilcoxon tests with
Holm correction and rank-biserial effect sizes, and Dolan-Moré performance profiles.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata, wilcoxon

__all__ = [
    "PairedTest",
    "ProfileCurve",
    "holm_adjust",
    "paired_wilcoxon",
    "performance_profile",
    "rank_biserial",
    "shifted_geometric_mean",
]


def shifted_geometric_mean(values: Sequence[float], shift: float = 1.0) -> float | None:
    """exp(mean(log(v + shift))) - shift: a mean of times that neither tiny nor huge values rule.

    The shift (1 s by default, as short time limits are common here) keeps
    millisecond runs from dominating the product. None for an empty sequence.
    """
    if not values:
        return None
    logs = [math.log(v + shift) for v in values]
    return math.exp(sum(logs) / len(logs)) - shift


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order.

    The k-th smallest of m p-values is multiplied by (m - k + 1); a running maximum
    keeps the adjusted values monotone, and all are capped at 1.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def rank_biserial(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Matched-pairs rank-biserial correlation in [-1, 1]; positive when `a` tends lower.

    With d = b - a and zero differences dropped (as the Wilcoxon test does), it is
    (R+ - R-) / (R+ + R-), R+/- the sums of ranks of |d| over positive/negative d.
    Lower is better for every metric here, so positive means `a` is better.
    """
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return None
    ranks = rankdata(np.abs(d))
    plus, minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((plus - minus) / (plus + minus))


@dataclass(frozen=True)
class PairedTest:
    """Result of one paired comparison of two solvers on one metric."""

    n_pairs: int
    n_nonzero: int
    statistic: float | None
    p_value: float | None
    effect_size: float | None  # rank-biserial; positive: the first solver is better


def paired_wilcoxon(a: Sequence[float], b: Sequence[float]) -> PairedTest:
    """Two-sided Wilcoxon signed-rank test on paired samples (zero differences dropped).

    scipy picks the exact null distribution for small samples without ties and a
    normal approximation otherwise. With no non-zero difference there is nothing to
    test and the p-value is 1.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} and {len(b)}")
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    nonzero = sum(1 for d in diffs if d != 0)
    if nonzero == 0:
        return PairedTest(len(a), 0, None, 1.0 if a else None, None)
    with warnings.catch_warnings():
        # One non-zero pair makes scipy's variance estimate warn; its p-value is still right.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = wilcoxon(a, b, zero_method="wilcox", alternative="two-sided")
    p = float(result.pvalue)
    return PairedTest(
        n_pairs=len(a),
        n_nonzero=nonzero,
        statistic=float(result.statistic),
        p_value=p if math.isfinite(p) else 1.0,
        effect_size=rank_biserial(a, b),
    )


@dataclass(frozen=True)
class ProfileCurve:
    """Fraction of instances on which a solver is within a factor tau of the best."""

    solver: str
    taus: list[float]
    fractions: list[float]


def performance_profile(measures: Mapping[str, Sequence[float]]) -> list[ProfileCurve]:
    """Dolan-Moré profiles from per-instance measures (lower is better; inf = failed).

    ratio[p, s] = measure[p, s] / min_s measure[p, s]; each curve steps up at the
    solver's sorted finite ratios, so rho(tau) = share of instances with ratio <= tau.
    Measures must be positive; an instance no solver solved counts as failed for all.
    """
    names = list(measures)
    if not names:
        return []
    table = np.array([list(measures[s]) for s in names], dtype=float)
    n_instances = table.shape[1]
    best = np.min(table, axis=0) if n_instances else np.array([])
    curves = []
    for k, name in enumerate(names):
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = table[k] / best
        finite = np.sort(ratios[np.isfinite(ratios)])
        taus = [1.0]
        fractions = [float(np.sum(finite <= 1.0 + 1e-12)) / max(n_instances, 1)]
        for count, tau in enumerate(finite, start=1):
            if tau <= 1.0 + 1e-12:
                continue
            if taus[-1] == tau:
                fractions[-1] = count / n_instances
            else:
                taus.append(float(tau))
                fractions.append(count / n_instances)
        curves.append(ProfileCurve(name, taus, fractions))
    return curves
