"""Small line charts as inline SVG (no script, no external resource) for the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from api.kpi_history import Series

__all__ = ["line_chart_svg"]


def line_chart_svg(
    name: str,
    title: str,
    series: Series,
    fmt: Callable[[float], str],
    *,
    window_s: float,
    floor_max: float = 0.0,
    width: int = 240,
    height: int = 64,
) -> str:
    """`series` over the last `window_s` seconds ending at its newest point (the x axis
    spans the points kept); the y axis from 0 to the larger of the highest value and
    `floor_max`. The newest value, the axis top and the span are printed; fewer than two
    points say it is waiting for samples."""
    label = f'<text x="2" y="11" class="t">{escape(title)}</text>'
    points = series.points
    head = (
        f'<svg data-chart="{escape(name)}" class="history" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    )
    if len(points) < 2:
        note = '<text x="2" y="34" class="muted">collecting samples…</text>'
        return f"{head}{label}{note}</svg>"
    end = points[-1][0]
    shown = [(at, v) for at, v in points if end - at <= window_s]
    span = max(end - shown[0][0], 1e-9)  # the x axis spans the samples kept, up to the window
    top = max(floor_max, max(v for _, v in shown)) or 1.0
    plot_top, plot_bottom = 26.0, height - 4.0

    def x(at: float) -> float:
        return 2 + (width - 4) * (1 - (end - at) / span)

    def y(value: float) -> float:
        return plot_bottom - (plot_bottom - plot_top) * (value / top)

    path = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in shown)
    right = f'x="{width - 2}" text-anchor="end"'
    newest = f'<text {right} y="11" class="v">{escape(fmt(shown[-1][1]))}</text>'
    scale = f'<text x="2" y="22" class="muted">max {escape(fmt(top))} · last {_span(span)}</text>'
    line = f'<polyline class="line" fill="none" points="{path}"/>'
    tip = f"<title>{escape(title)}: {len(shown)} samples over the last {_span(span)}</title>"
    return f"{head}{tip}{label}{newest}{scale}{line}</svg>"


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
