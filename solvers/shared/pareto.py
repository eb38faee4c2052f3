"""Pareto utilities written once: the non-dominated filter and the normalised hypervolume
that the solvers, the reports and the benchmark share.

Points are mapped to [0, 1] per objective by `(p - ideal) / (nadir - ideal)`; the
hypervolume is the volume they dominate inside the box [0, reference]^k, divided
by reference^k, so it lies in [0, 1] and larger is better. Exact for 2 objectives
(sweep), exact by slicing for small 3+ objective sets, Monte Carlo beyond that.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["DEFAULT_REFERENCE", "non_dominated", "normalised_hypervolume"]

#: Reference point in normalised space: a little beyond the nadir, so the front's
#: extreme points still count.
DEFAULT_REFERENCE = 1.1
_EXACT_LIMIT = 2_000_000  # n^(k-1) above which Monte Carlo is used
_SAMPLES = 200_000


def non_dominated(points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Indices (ascending) of the points no other point dominates (minimisation).

    The one rule for duplicates, used by every caller (plan choice, the merged front,
    hypervolume, CP-SAT's epsilon sweep, NSGA-II's front): identical points are kept
    once, as their first occurrence; a point equal to another does not dominate it.
    O(n^2 k) time and memory; fronts here have at most a few hundred points.
    """
    pts = np.asarray(points, dtype=np.float64)
    if not len(pts):
        return np.zeros(0, dtype=np.int64)
    pts = pts.reshape(len(pts), -1)
    le = np.all(pts[:, None, :] <= pts[None, :, :], axis=2)
    lt = np.any(pts[:, None, :] < pts[None, :, :], axis=2)
    dominated = np.any(le & lt, axis=0)
    equal = le & np.all(pts[:, None, :] >= pts[None, :, :], axis=2)
    # equal[i, j] with i < j: j repeats an earlier point.
    repeat = np.any(np.triu(equal, k=1), axis=0)
    return np.flatnonzero(~dominated & ~repeat)


def normalised_hypervolume(
    points: np.ndarray,
    ideal: np.ndarray,
    nadir: np.ndarray,
    *,
    reference: float = DEFAULT_REFERENCE,
    seed: int = 0,
) -> float:
    """Hypervolume of `points` (float[n, k], minimised) in [0, 1] under ideal/nadir.

    An objective with nadir == ideal is scaled by 1, so it neither blows up nor vanishes.
    """
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    if pts.size == 0:
        return 0.0
    ideal = np.asarray(ideal, dtype=np.float64)
    span = np.asarray(nadir, dtype=np.float64) - ideal
    span = np.where(span > 0, span, 1.0)
    scaled = (pts - ideal) / span
    scaled = scaled[np.all(scaled < reference, axis=1)]
    if not len(scaled):
        return 0.0
    scaled = np.maximum(scaled, 0.0)
    scaled = scaled[non_dominated(scaled)]
    k = scaled.shape[1]
    if k == 1:
        volume = reference - float(scaled.min())
    elif k == 2:
        volume = _sweep_2d(scaled, reference)
    elif len(scaled) ** (k - 1) <= _EXACT_LIMIT:
        volume = _slice(scaled, reference)
    else:
        volume = _monte_carlo(scaled, reference, seed)
    return float(volume / reference**k)


def _sweep_2d(pts: np.ndarray, ref: float) -> float:
    """Area dominated by a 2-D set: sort by f1, add the strips below the staircase."""
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
    area = 0.0
    best_y = ref
    for x, y in pts.tolist():
        if y < best_y:
            area += (ref - x) * (best_y - y)
            best_y = y
    return area


def _slice(pts: np.ndarray, ref: float) -> float:
    """Exact volume by slicing along the last objective (HSO). O(n^(k-1) log n)."""
    k = pts.shape[1]
    if k == 2:
        return _sweep_2d(pts, ref)
    pts = pts[np.argsort(pts[:, -1])]
    volume = 0.0
    for c in range(len(pts)):
        top = pts[c + 1, -1] if c + 1 < len(pts) else ref
        depth = top - pts[c, -1]
        if depth <= 0:
            continue
        layer = pts[: c + 1, :-1]
        volume += _slice(layer[non_dominated(layer)], ref) * depth
    return volume


def _monte_carlo(pts: np.ndarray, ref: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    k = pts.shape[1]
    hits = 0
    chunk = max(1, 5_000_000 // (len(pts) * k))
    for start in range(0, _SAMPLES, chunk):
        size = min(chunk, _SAMPLES - start)
        sample = rng.uniform(0.0, ref, size=(size, k))
        hits += int(np.any(np.all(pts[None, :, :] <= sample[:, None, :], axis=2), axis=1).sum())
    return hits / _SAMPLES * ref**k
