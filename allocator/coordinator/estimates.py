"""Online runtime estimates per task kind: exponentially weighted moving averages.

Estimates are in work units (seconds at speed 1), so they transfer across agents
of different speeds. Unknown kinds get a safe default until they are observed.
"""

from __future__ import annotations

__all__ = ["RuntimeEstimates"]


class RuntimeEstimates:
    """EWMA of observed work per kind. `observe` and `estimate` are O(1)."""

    __slots__ = ("_alpha", "_default", "_mean", "_samples")

    def __init__(self, default_work: float = 1.0, alpha: float = 0.2) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha is {alpha}; use a value in (0, 1]")
        if default_work <= 0:
            raise ValueError(f"default_work is {default_work}; use a positive number")
        self._alpha = alpha
        self._default = default_work
        self._mean: dict[str, float] = {}
        self._samples: dict[str, int] = {}

    def estimate(self, kind: str | None) -> float:
        """Expected work units for a task of `kind` (the default when unseen)."""
        if kind is None:
            return self._default
        return self._mean.get(kind, self._default)

    def observe(self, kind: str | None, work: float) -> None:
        """Fold one observed run (work units = runtime_s * agent speed) into the mean."""
        if kind is None or work < 0:
            return
        mean = self._mean.get(kind)
        if mean is None:
            self._mean[kind] = work
            self._samples[kind] = 1
        else:
            # Few samples: a plain mean, so the first observations are not over-weighted.
            n = self._samples[kind] + 1
            self._samples[kind] = n
            weight = max(self._alpha, 1.0 / n)
            self._mean[kind] = mean + weight * (work - mean)

    def snapshot(self) -> dict[str, float]:
        """Current mean per kind. O(kinds)."""
        return dict(self._mean)
