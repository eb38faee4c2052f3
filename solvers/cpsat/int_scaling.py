"""Turn float coefficients into the integers CP-SAT needs, with a known rounding error.

Decimal data (costs like 2.25) scales exactly by a power of ten; anything else is
scaled so the largest magnitude is about 1e7 and the rounding error is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["IntScale", "choose_scale", "scale_down", "scale_nearest", "scale_up"]

# Largest magnitude a scaled coefficient may take when the data is not decimal:
# 1e7 keeps rounding error near 1e-7 relative and CP-SAT's int64 sums far from overflow.
_MAX_SCALED = 1e7
# float32 inputs carry ~7 significant digits, so "integral" means within this ratio.
_INTEGRAL_RTOL = 1e-6


@dataclass(frozen=True)
class IntScale:
    """Multiply by `factor` then round; `exact` when no rounding error beyond float noise."""

    factor: float
    exact: bool


def choose_scale(values: np.ndarray, max_scaled: float = _MAX_SCALED) -> IntScale:
    """The smallest power of ten making `values` integral, else the largest that fits."""
    v = np.abs(np.asarray(values, dtype=np.float64).ravel())
    v = v[np.isfinite(v)]
    peak = float(v.max()) if v.size else 0.0
    if peak == 0.0:
        return IntScale(1.0, True)
    for k in range(7):
        factor = 10.0**k
        if peak * factor > max_scaled:
            break
        scaled = v[v > 0] * factor
        rounded = np.round(scaled)
        # Tiny values must not pass as "integral" by rounding to zero.
        if np.all((np.abs(scaled - rounded) <= _INTEGRAL_RTOL * scaled) & (rounded > 0)):
            return IntScale(factor, True)
    exponent = int(np.floor(np.log10(max_scaled / peak)))
    return IntScale(10.0**exponent, False)


def scale_nearest(values: np.ndarray, scale: IntScale) -> np.ndarray:
    """Round to the nearest integer (objective coefficients: error accounted separately)."""
    return np.round(np.asarray(values, dtype=np.float64) * scale.factor).astype(np.int64)


def scale_up(values: np.ndarray, scale: IntScale) -> np.ndarray:
    """Round up unless exact (resource use: never understate what a task needs)."""
    scaled = np.asarray(values, dtype=np.float64) * scale.factor
    if scale.exact:
        return np.round(scaled).astype(np.int64)
    return np.ceil(scaled - 1e-9).astype(np.int64)


def scale_down(values: np.ndarray, scale: IntScale) -> np.ndarray:
    """Round down unless exact (capacities: never overstate what an agent holds)."""
    scaled = np.asarray(values, dtype=np.float64) * scale.factor
    if scale.exact:
        return np.round(scaled).astype(np.int64)
    return np.floor(scaled + 1e-9).astype(np.int64)
