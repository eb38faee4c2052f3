"""Scales, ticks and axis frames for the inline SVG charts of the HTML reports.

Plain string building: no plotting library, so a report is one small offline file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

__all__ = [
    "PALETTE",
    "Frame",
    "Scale",
    "fmt_number",
    "nice_ticks",
    "svg_open",
]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#7f7f7f",
    "#000000",
)


def fmt_number(value: float | None, digits: int = 4) -> str:
    """Short human form: 4 significant digits, no exponent below 1e6."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.{digits - 1}e}"
    text = f"{value:.{digits}g}"
    return text if "e" not in text else f"{value:.0f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [lo, hi] (1, 2, 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


@dataclass(frozen=True)
class Scale:
    """Maps a data interval onto a pixel interval, linearly or on log10."""

    lo: float
    hi: float
    px_lo: float
    px_hi: float
    log: bool = False

    @staticmethod
    def fit(
        values: list[float],
        px_lo: float,
        px_hi: float,
        *,
        log: bool = False,
        pad: float = 0.05,
        include: tuple[float, ...] = (),
    ) -> Scale:
        """A scale covering `values` (and `include`) with `pad` margin on each side."""
        data = [v for v in (*values, *include) if math.isfinite(v) and (v > 0 or not log)]
        if not data:
            return Scale(0.0, 1.0, px_lo, px_hi, log=False)
        lo, hi = min(data), max(data)
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi == lo:
            spread = abs(lo) * 0.1 or 1.0
            lo, hi = lo - spread, hi + spread
        margin = (hi - lo) * pad
        lo, hi = lo - margin, hi + margin
        if log:
            return Scale(10**lo, 10**hi, px_lo, px_hi, log=True)
        return Scale(lo, hi, px_lo, px_hi)

    def __call__(self, value: float) -> float:
        lo, hi, v = self.lo, self.hi, value
        if self.log:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(max(value, 1e-300))
        span = hi - lo or 1.0
        return round(self.px_lo + (v - lo) / span * (self.px_hi - self.px_lo), 2)

    def ticks(self, count: int = 5) -> list[float]:
        if not self.log:
            return nice_ticks(self.lo, self.hi, count)
        lo, hi = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
        decades = [10.0**e for e in range(lo, hi + 1)]
        inside = [t for t in decades if self.lo <= t <= self.hi]
        if len(inside) >= 2:
            return inside
        # Less than two decades: 1-2-5 steps within them read better.
        fine = [m * d for d in decades for m in (1, 2, 5)]
        return [t for t in fine if self.lo <= t <= self.hi]


@dataclass(frozen=True)
class Frame:
    """Plot area inside an SVG of `width` x `height` with margins for axes."""

    width: int = 1000
    height: int = 340
    left: int = 64
    right: int = 16
    top: int = 16
    bottom: int = 44

    @property
    def x0(self) -> float:
        return float(self.left)

    @property
    def x1(self) -> float:
        return float(self.width - self.right)

    @property
    def y0(self) -> float:
        return float(self.height - self.bottom)

    @property
    def y1(self) -> float:
        return float(self.top)

    def axes(self, xs: Scale, ys: Scale, x_label: str, y_label: str) -> str:
        """Grid lines, tick labels and axis titles."""
        parts = ['<g class="axes">']
        for t in ys.ticks():
            y = ys(t)
            parts.append(
                f'<line class="grid" x1="{self.x0}" x2="{self.x1}" y1="{y}" y2="{y}"/>'
                f'<text class="tick" x="{self.x0 - 6}" y="{y + 4}" text-anchor="end">'
                f"{fmt_number(t)}</text>"
            )
        for t in xs.ticks():
            x = xs(t)
            parts.append(
                f'<line class="grid" x1="{x}" x2="{x}" y1="{self.y1}" y2="{self.y0}"/>'
                f'<text class="tick" x="{x}" y="{self.y0 + 16}" text-anchor="middle">'
                f"{fmt_number(t)}</text>"
            )
        parts.append(
            f'<rect class="plot-border" x="{self.x0}" y="{self.y1}" '
            f'width="{self.x1 - self.x0}" height="{self.y0 - self.y1}"/>'
            f'<text class="axis-title" x="{(self.x0 + self.x1) / 2}" y="{self.height - 6}" '
            f'text-anchor="middle">{escape(x_label)}</text>'
            f'<text class="axis-title" transform="translate(14,{(self.y0 + self.y1) / 2}) '
            f'rotate(-90)" text-anchor="middle">{escape(y_label)}</text></g>'
        )
        return "".join(parts)


def svg_open(frame: Frame, chart: str, label: str) -> str:
    """The opening <svg> tag: scales with the page, names itself for screen readers."""
    return (
        f'<svg class="chart" data-chart="{chart}" viewBox="0 0 {frame.width} {frame.height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    )
