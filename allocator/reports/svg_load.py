"""Per-agent usage bars against capacity for the chosen plan (one thin bar per resource)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from allocator.reports.svg_axes import Frame, Scale, fmt_number, svg_open
from models.report import AgentLoad

__all__ = ["RESOURCE_COLOURS", "load_bars"]

RESOURCE_COLOURS: tuple[str, ...] = ("#4C78A8", "#72B7B2", "#B279A2", "#9D755D", "#54A24B")
_OVER = "#D62728"


def load_bars(agents: Sequence[AgentLoad], resources: Sequence[str]) -> str:
    """Rows of bars, usage / capacity per resource; the dashed line is 100 % of capacity.

    The part of a bar beyond capacity is red, so an overloaded agent stands out at a
    glance. Cost: O(agents x resources) elements.
    """
    if not agents:
        return ""
    dims = max(len(resources), 1)
    bar_h = 5 if dims > 2 else 7
    row_h = max(16, dims * (bar_h + 1) + 6)
    label_w = max(60, min(160, 7 * max(len(a.agent) for a in agents) + 12))
    frame = Frame(
        width=1000, height=40 + row_h * len(agents), left=label_w, right=130, top=8, bottom=32
    )

    def ratio(a: AgentLoad, r: str) -> float:
        cap = a.capacity.get(r, 0.0)
        return a.usage.get(r, 0.0) / cap if cap > 0 else 0.0

    peak = max((ratio(a, r) for a in agents for r in resources), default=1.0)
    xs = Scale(0.0, max(1.0, peak) * 1.04, frame.x0, frame.x1)
    parts = [svg_open(frame, "agent-load", "usage against capacity per agent")]
    for t in xs.ticks(5):
        x = xs(t)
        parts.append(
            f'<line class="grid" x1="{x}" x2="{x}" y1="{frame.y1}" y2="{frame.y0}"/>'
            f'<text class="tick" x="{x}" y="{frame.y0 + 14}" text-anchor="middle">'
            f"{round(t * 100)}%</text>"
        )
    for row, a in enumerate(agents):
        top = frame.y1 + row * row_h + 3
        parts.append(
            f'<g class="agent-row" data-agent="{escape(a.agent)}" '
            f'data-utilisation="{a.utilisation:.4g}">'
            f'<text class="tick" x="{frame.x0 - 6}" y="{top + row_h / 2 + 1}" text-anchor="end">'
            f"{escape(a.agent)}</text>"
        )
        for k, r in enumerate(resources):
            value = ratio(a, r)
            y = top + k * (bar_h + 1)
            full = xs(min(value, 1.0)) - frame.x0
            tip = (
                f"{a.agent} {r}: {fmt_number(a.usage.get(r, 0.0))} of "
                f"{fmt_number(a.capacity.get(r, 0.0))} ({value:.0%})"
            )
            colour = RESOURCE_COLOURS[k % len(RESOURCE_COLOURS)]
            parts.append(
                f'<rect class="pt bar" x="{frame.x0}" y="{y}" width="{max(full, 0.5):.2f}" '
                f'height="{bar_h}" fill="{colour}" data-x="{value:.4g}" '
                f'data-resource="{escape(r)}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if value > 1.0:
                parts.append(
                    f'<rect x="{xs(1.0)}" y="{y}" width="{xs(value) - xs(1.0):.2f}" '
                    f'height="{bar_h}" fill="{_OVER}"><title>{escape(tip)}</title></rect>'
                )
        parts.append(
            f'<text class="tick" x="{frame.x1 + 8}" y="{top + row_h / 2 + 1}">'
            f"{a.n_tasks} tasks · {fmt_number(a.load_s, 3)} s</text></g>"
        )
    x100 = xs(1.0)
    parts.append(
        f'<line x1="{x100}" x2="{x100}" y1="{frame.y1}" y2="{frame.y0}" stroke="#333" '
        f'stroke-dasharray="5 3"/><text class="axis-title" x="{(frame.x0 + frame.x1) / 2}" '
        f'y="{frame.height - 4}" text-anchor="middle">usage / capacity (dashed: capacity)</text>'
        "</svg>"
    )
    keys = "".join(
        f'<span class="key"><i style="background:{RESOURCE_COLOURS[k % len(RESOURCE_COLOURS)]}">'
        f"</i>{escape(r)}</span>"
        for k, r in enumerate(resources)
    )
    over = f'<span class="key"><i style="background:{_OVER}"></i>over capacity</span>'
    return "".join(parts) + f'<div class="legend">{keys}{over}</div>'
