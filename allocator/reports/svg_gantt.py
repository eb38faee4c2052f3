"""A Gantt chart of a workflow plan's schedule: one row per agent, one bar per task,
the critical path in red. Inline SVG, no script: it reads the same printed or offline.

The critical path follows each task's `waits_for` back from the last task to finish
(`models.schedule_chain.critical_path`): a chain with no slack, as long as the makespan.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from itertools import pairwise

from allocator.reports.svg_axes import Frame, Scale, fmt_number, svg_open
from models.plan import ScheduledTask
from models.schedule_chain import critical_path

__all__ = ["MAX_GANTT_TASKS", "GanttChart", "gantt_chart"]

#: Above this many tasks the chart shows the critical path and the busiest agents only.
MAX_GANTT_TASKS = 1500
_MAX_ROWS = 60
_BAR = "#4C78A8"
_CRITICAL = "#D62728"


@dataclass
class GanttChart:
    """The SVG and what it shows (for the page's caption)."""

    svg: str
    critical: list[str]
    makespan: float
    shown_tasks: int
    total_tasks: int
    shown_agents: int
    total_agents: int


def _rows(schedule: dict[str, ScheduledTask], critical: set[str]) -> list[str]:
    """Agents in first-start order; past _MAX_ROWS, those on the critical path and the
    busiest others."""
    first: dict[str, float] = {}
    busy: dict[str, float] = {}
    for slot in schedule.values():
        first[slot.agent] = min(first.get(slot.agent, slot.start), slot.start)
        busy[slot.agent] = busy.get(slot.agent, 0.0) + slot.finish - slot.start
    agents = sorted(first, key=lambda a: (first[a], a))
    if len(agents) <= _MAX_ROWS:
        return agents
    keep = {schedule[t].agent for t in critical}
    for agent in sorted(agents, key=lambda a: -busy[a]):
        if len(keep) >= _MAX_ROWS:
            break
        keep.add(agent)
    return [a for a in agents if a in keep]


def gantt_chart(schedule: dict[str, ScheduledTask]) -> GanttChart | None:
    """The chart of `schedule` (task id -> agent, start, finish), or None when empty.

    Cost: O(n log n) for n tasks; at most MAX_GANTT_TASKS bars are drawn (the critical
    path always), so a huge workflow's page stays small.
    """
    if not schedule:
        return None
    chain = critical_path(
        {t: s.waits_for for t, s in schedule.items()}, {t: s.finish for t, s in schedule.items()}
    )
    on_path = set(chain)
    agents = _rows(schedule, on_path)
    row_of = {a: k for k, a in enumerate(agents)}
    tasks = [t for t in schedule if schedule[t].agent in row_of]
    if len(tasks) > MAX_GANTT_TASKS:
        drawable = set(tasks)
        # The critical path first (its latest part, should it alone be too long).
        kept = [t for t in chain if t in drawable][-MAX_GANTT_TASKS:]
        rest = sorted(
            (t for t in tasks if t not in on_path),
            key=lambda t: -(schedule[t].finish - schedule[t].start),
        )
        tasks = kept + rest[: MAX_GANTT_TASKS - len(kept)]
    makespan = max(s.finish for s in schedule.values())
    row_h = 22 if len(agents) <= 20 else 14
    label_w = max(60, min(160, 7 * max(len(a) for a in agents) + 12))
    frame = Frame(width=1000, height=48 + row_h * len(agents), left=label_w, top=8, bottom=40)
    xs = Scale(0.0, max(makespan, 1e-9) * 1.02, frame.x0, frame.x1)
    parts = [
        svg_open(frame, "gantt", "schedule of the chosen plan: one bar per task"),
        _axis(frame, xs),
    ]
    for agent, k in row_of.items():
        y = frame.y1 + k * row_h
        parts.append(
            f'<text class="tick" x="{frame.x0 - 6}" y="{y + row_h / 2 + 4}" '
            f'text-anchor="end">{escape(agent)}</text>'
        )
    for task in sorted(tasks, key=lambda t: t in on_path):  # critical bars on top
        parts.append(
            _bar(
                task,
                schedule[task],
                frame.y1 + row_of[schedule[task].agent] * row_h,
                row_h,
                xs,
                task in on_path,
            )
        )
    parts.append(_path_line(chain, schedule, row_of, frame, row_h, xs))
    parts.append("</svg>")
    return GanttChart(
        svg="".join(parts),
        critical=chain,
        makespan=makespan,
        shown_tasks=len(tasks),
        total_tasks=len(schedule),
        shown_agents=len(agents),
        total_agents=len({s.agent for s in schedule.values()}),
    )


def _axis(frame: Frame, xs: Scale) -> str:
    parts = ['<g class="axes">']
    for t in xs.ticks(8):
        x = xs(t)
        parts.append(
            f'<line class="grid" x1="{x}" x2="{x}" y1="{frame.y1}" y2="{frame.y0}"/>'
            f'<text class="tick" x="{x}" y="{frame.y0 + 16}" text-anchor="middle">'
            f"{fmt_number(t)}</text>"
        )
    parts.append(
        f'<text class="axis-title" x="{(frame.x0 + frame.x1) / 2}" y="{frame.height - 6}" '
        'text-anchor="middle">seconds from the plan\'s start</text></g>'
    )
    return "".join(parts)


def _bar(task: str, slot: ScheduledTask, top: float, row_h: int, xs: Scale, critical: bool) -> str:
    x0, x1 = xs(slot.start), xs(slot.finish)
    tip = (
        f"{task} on {slot.agent}: {fmt_number(slot.start)} to {fmt_number(slot.finish)} s"
        + (f", waits for {slot.waits_for}" if slot.waits_for else "")
        + (" (critical path)" if critical else "")
    )
    return (
        f'<rect class="gantt-bar{" critical" if critical else ""}" data-task="{escape(task)}" '
        f'data-agent="{escape(slot.agent)}" data-start="{slot.start:.6g}" '
        f'data-finish="{slot.finish:.6g}" x="{x0}" y="{top + 2}" '
        f'width="{max(x1 - x0, 0.8):.2f}" height="{row_h - 4}" '
        f'fill="{_CRITICAL if critical else _BAR}" stroke="#fff" stroke-width="0.5">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _path_line(
    chain: list[str],
    schedule: dict[str, ScheduledTask],
    row_of: dict[str, int],
    frame: Frame,
    row_h: int,
    xs: Scale,
) -> str:
    """Thin red links from each critical task's end to the next one's start."""
    parts = []
    for before, after in pairwise(chain):
        a, b = schedule[before], schedule[after]
        if a.agent not in row_of or b.agent not in row_of:
            continue
        y_a = frame.y1 + row_of[a.agent] * row_h + row_h / 2
        y_b = frame.y1 + row_of[b.agent] * row_h + row_h / 2
        parts.append(
            f'<line class="critical-link" x1="{xs(a.finish)}" y1="{y_a}" x2="{xs(b.start)}" '
            f'y2="{y_b}" stroke="{_CRITICAL}" stroke-width="1.2" stroke-dasharray="3 2"/>'
        )
    return "".join(parts)
