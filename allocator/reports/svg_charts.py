"""Inline SVG charts for the reports: step lines over time, Pareto scatter, parallel coordinates.

Every data point is an element with `data-x`/`data-y` (or `data-values`) and a
<title> tooltip, so people can hover and tests can count points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from allocator.reports.svg_axes import Frame, Scale, fmt_number, svg_open

__all__ = ["HLine", "Series", "downsample", "parallel_coordinates", "scatter_chart", "step_chart"]


@dataclass
class Series:
    """One named line or point set; `end_x` extends a step line to where the run stopped.

    `start_x`, when given, is where the run started: a step chart marks it with a
    tick on the time axis, so a late start is visible rather than implied.
    """

    name: str
    color: str
    points: list[tuple[float, float]]
    end_x: float | None = None
    start_x: float | None = None
    labels: list[str] = field(default_factory=list)  # tooltip per point, optional


@dataclass
class HLine:
    """A horizontal reference line, such as the best proven bound."""

    y: float
    label: str
    color: str = "#444"


def downsample(points: Sequence[tuple[float, float]], max_points: int) -> list[tuple[float, float]]:
    """At most `max_points` points, evenly spread, always keeping the first and the last."""
    pts = list(points)
    if len(pts) <= max_points or max_points < 2:
        return pts
    step = (len(pts) - 1) / (max_points - 1)
    picked = sorted({round(i * step) for i in range(max_points)})
    return [pts[i] for i in picked]


def _span_attrs(s: Series) -> str:
    """`data-start`/`data-end` on a series group, for hover tools and tests."""
    attrs = f' data-start="{s.start_x:.6g}"' if s.start_x is not None else ""
    return attrs + (f' data-end="{s.end_x:.6g}"' if s.end_x is not None else "")


def _legend(items: Sequence[tuple[str, str]], extra: str = "") -> str:
    keys = "".join(
        f'<span class="key"><i style="background:{color}"></i>{escape(name)}</span>'
        for name, color in items
    )
    return f'<div class="legend">{keys}{extra}</div>'


def step_chart(
    series: Sequence[Series],
    *,
    chart: str,
    x_label: str,
    y_label: str,
    hlines: Sequence[HLine] = (),
    log_x: bool | None = None,
    y_range: tuple[float, float] | None = None,
    frame: Frame | None = None,
) -> str:
    """A step-after line per series (values hold until the next point), with markers.

    `log_x=None` picks a log time axis when positive x values span over two decades,
    so a heuristic's first plan after milliseconds and a late improvement both show.
    """
    frame = frame or Frame()
    xs_all = [x for s in series for x, _ in s.points] + [s.end_x for s in series if s.end_x]
    xs_all += [s.start_x for s in series if s.start_x]
    positive = [x for x in xs_all if x > 0]
    if log_x is None:
        log_x = bool(positive) and max(positive) / min(positive) > 100
    floor = min(positive) / 2 if positive else 1e-3
    fix_x = (lambda x: max(x, floor)) if log_x else (lambda x: x)
    ys_all = [y for s in series for _, y in s.points] + [h.y for h in hlines]
    xscale = Scale.fit([fix_x(x) for x in xs_all], frame.x0, frame.x1, log=log_x, pad=0.02)
    if y_range is not None:
        yscale = Scale(y_range[0], y_range[1], frame.y0, frame.y1)
    else:
        yscale = Scale.fit(ys_all, frame.y0, frame.y1)
    label = f"{y_label} against {x_label}"
    parts = [svg_open(frame, chart, label), frame.axes(xscale, yscale, x_label, y_label)]
    for h in hlines:
        y = yscale(h.y)
        parts.append(
            f'<g class="hline"><line x1="{frame.x0}" x2="{frame.x1}" y1="{y}" y2="{y}" '
            f'stroke="{h.color}" stroke-dasharray="6 4"/>'
            f'<text x="{frame.x0 + 6}" y="{y - 5}" fill="{h.color}">'
            f"{escape(h.label)} {fmt_number(h.y)}</text></g>"
        )
    for s in series:
        if not s.points:
            continue
        pts = sorted(s.points)
        path = []
        for k, (x, y) in enumerate(pts):
            px, py = xscale(fix_x(x)), yscale(y)
            if k:
                path.append(f"H{px}V{py}")
            else:
                path.append(f"M{px},{py}")
        if s.end_x is not None and s.end_x > pts[-1][0]:
            path.append(f"H{xscale(fix_x(s.end_x))}")
        parts.append(
            f'<g class="series" data-series="{escape(s.name)}"{_span_attrs(s)}>'
            f'<path d="{"".join(path)}" fill="none" stroke="{s.color}" stroke-width="2"/>'
        )
        if s.start_x is not None:
            sx = xscale(fix_x(s.start_x))
            parts.append(
                f'<line class="start" x1="{sx}" x2="{sx}" y1="{frame.y0}" y2="{frame.y0 - 10}" '
                f'stroke="{s.color}" stroke-width="3"><title>{escape(s.name)} started at '
                f"{s.start_x:.3g} s</title></line>"
            )
        for k, (x, y) in enumerate(pts):
            tip = s.labels[k] if k < len(s.labels) else f"{s.name}: {fmt_number(y)} at {x:.3g}"
            parts.append(
                f'<circle class="pt" cx="{xscale(fix_x(x))}" cy="{yscale(y)}" r="2.5" '
                f'fill="{s.color}" data-x="{x:.6g}" data-y="{y:.6g}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts) + _legend([(s.name, s.color) for s in series])


def scatter_chart(
    series: Sequence[Series],
    *,
    chart: str,
    x_label: str,
    y_label: str,
    highlight: tuple[float, float] | None = None,
    highlight_label: str = "knee",
    front_line: Sequence[tuple[float, float]] = (),
    frame: Frame | None = None,
) -> str:
    """Points per series; an optional dashed front line and one highlighted point."""
    frame = frame or Frame(height=380)
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    xscale = Scale.fit(xs, frame.x0, frame.x1)
    yscale = Scale.fit(ys, frame.y0, frame.y1)
    parts = [svg_open(frame, chart, f"{y_label} against {x_label}")]
    parts.append(frame.axes(xscale, yscale, x_label, y_label))
    if len(front_line) > 1:
        d = "".join(
            f"{'M' if k == 0 else 'L'}{xscale(x)},{yscale(y)}"
            for k, (x, y) in enumerate(sorted(front_line))
        )
        parts.append(
            f'<path class="front" d="{d}" fill="none" stroke="#999" stroke-dasharray="4 3"/>'
        )
    for s in series:
        parts.append(f'<g class="series" data-series="{escape(s.name)}">')
        for k, (x, y) in enumerate(s.points):
            tip = (
                s.labels[k]
                if k < len(s.labels)
                else f"{s.name}: ({fmt_number(x)}, {fmt_number(y)})"
            )
            parts.append(
                f'<circle class="pt" cx="{xscale(x)}" cy="{yscale(y)}" r="4.5" fill="{s.color}" '
                f'fill-opacity="0.85" data-x="{x:.6g}" data-y="{y:.6g}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        parts.append("</g>")
    if highlight is not None:
        hx, hy = xscale(highlight[0]), yscale(highlight[1])
        anchor = "end" if hx > (frame.x0 + frame.x1) / 2 else "start"
        dx = -12 if anchor == "end" else 12
        parts.append(
            f'<g class="knee"><circle cx="{hx}" cy="{hy}" r="10" fill="none" stroke="#000" '
            f'stroke-width="2"/><text x="{hx + dx}" y="{hy - 12}" text-anchor="{anchor}" '
            f'font-weight="600">{escape(highlight_label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts) + _legend([(s.name, s.color) for s in series])


def parallel_coordinates(
    axes: Sequence[str],
    lines: Sequence[tuple[str, str, Sequence[float], bool]],
    *,
    chart: str,
    frame: Frame | None = None,
) -> str:
    """One polyline per point across one vertical axis per objective (min at the bottom).

    `lines` holds (series name, colour, values per axis, highlighted). Each axis is
    scaled to its own range, so objectives in different units share the picture.
    """
    frame = frame or Frame(height=360, left=60, right=60, bottom=48, top=24)
    n = len(axes)
    if n < 2 or not lines:
        return ""
    gap = (frame.x1 - frame.x0) / (n - 1)
    xpos = [frame.x0 + k * gap for k in range(n)]
    scales = []
    for k in range(n):
        col = [v[k] for _, _, v, _ in lines if math.isfinite(v[k])]
        scales.append(Scale.fit(col, frame.y0, frame.y1, pad=0.0))
    parts = [svg_open(frame, chart, "objectives of the Pareto plans, one axis per objective")]
    # Highlighted line last, so it is drawn on top.
    for name, color, values, hot in sorted(lines, key=lambda item: item[3]):
        coords = " ".join(f"{xpos[k]},{scales[k](values[k])}" for k in range(n))
        tip = f"{name}: " + ", ".join(
            f"{a}={fmt_number(v)}" for a, v in zip(axes, values, strict=True)
        )
        width, opacity = ("3.5", "1") if hot else ("1.5", "0.6")
        stroke = "#000" if hot else color
        data = ",".join(f"{v:.6g}" for v in values)
        parts.append(
            f'<polyline class="pt{" knee" if hot else ""}" points="{coords}" fill="none" '
            f'stroke="{stroke}" stroke-width="{width}" stroke-opacity="{opacity}" '
            f'data-series="{escape(name)}" data-values="{data}"><title>{escape(tip)}</title>'
            "</polyline>"
        )
    for k, axis in enumerate(axes):
        x = xpos[k]
        parts.append(
            f'<g class="pc-axis"><line x1="{x}" x2="{x}" y1="{frame.y1}" y2="{frame.y0}" '
            f'stroke="#333"/><text class="tick" x="{x}" y="{frame.y0 + 14}" text-anchor="middle">'
            f"{fmt_number(scales[k].lo)}</text>"
            f'<text class="tick" x="{x}" y="{frame.y1 - 6}" text-anchor="middle">'
            f"{fmt_number(scales[k].hi)}</text>"
            f'<text class="axis-title" x="{x}" y="{frame.height - 6}" text-anchor="middle">'
            f"{escape(axis)}</text></g>"
        )
    parts.append("</svg>")
    legend_items = list(dict.fromkeys((name, color) for name, color, _, _ in lines))
    extra = '<span class="key"><i style="background:#000"></i>knee (chosen)</span>'
    return "".join(parts) + _legend(legend_items, extra)
