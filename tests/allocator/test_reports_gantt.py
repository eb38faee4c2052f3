"""The Gantt chart of a workflow plan: one bar per task, the critical path in red, a cap
on huge schedules that keeps the critical path, and no Gantt for plans without a schedule."""

from __future__ import annotations

import re

import numpy as np

from allocator.reports.svg_gantt import MAX_GANTT_TASKS, gantt_chart
from models import compile_problem, plan_from_array
from models.generators.workflow import generate_workflow_problem
from models.plan import ScheduledTask
from models.schedule_check import derive_schedule


def _schedule(n: int, agents: int, seed: int) -> dict[str, ScheduledTask]:
    problem = compile_problem(generate_workflow_problem(n, agents, 5.0, seed))
    assignment = np.random.default_rng(seed).integers(0, agents, size=n)
    plan = plan_from_array(problem, assignment, derive_schedule(problem, assignment))
    assert plan.schedule is not None
    return plan.schedule


def _bars(svg: str) -> list[str]:
    return re.findall(r'<rect class="gantt-bar[^"]*" data-task="([^"]*)"', svg)


def test_one_bar_per_task_and_the_critical_path_in_red() -> None:
    schedule = _schedule(40, 4, 3)
    chart = gantt_chart(schedule)
    assert chart is not None
    assert sorted(_bars(chart.svg)) == sorted(schedule)
    red = re.findall(r'<rect class="gantt-bar critical" data-task="([^"]*)"', chart.svg)
    assert sorted(red) == sorted(chart.critical)
    assert chart.makespan == max(s.finish for s in schedule.values())
    assert schedule[chart.critical[-1]].finish == chart.makespan
    assert chart.svg.count('class="critical-link"') == len(chart.critical) - 1
    assert "<script" not in chart.svg and "http" not in chart.svg.replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_a_huge_schedule_is_capped_but_keeps_its_critical_path() -> None:
    n, chain = MAX_GANTT_TASKS + 500, 300
    schedule = {
        f"t{j}": ScheduledTask(
            agent=f"a{j % 7}",
            start=float(j) if j < chain else 0.0,
            finish=float(j + 1) if j < chain else 0.5,
            waits_for=f"t{j - 1}" if 0 < j < chain else None,
        )
        for j in range(n)
    }
    chart = gantt_chart(schedule)
    assert chart is not None
    drawn = _bars(chart.svg)
    assert len(drawn) == chart.shown_tasks == MAX_GANTT_TASKS and chart.total_tasks == n
    assert chart.critical == [f"t{j}" for j in range(chain)]
    assert set(chart.critical) <= set(drawn)
    # A chain longer than the cap: its latest part is drawn.
    long_chain = {
        f"t{j}": ScheduledTask(
            agent="a", start=float(j), finish=float(j + 1), waits_for=f"t{j - 1}" if j else None
        )
        for j in range(n)
    }
    chart = gantt_chart(long_chain)
    assert chart is not None
    assert sorted(_bars(chart.svg)) == sorted(f"t{j}" for j in range(n - MAX_GANTT_TASKS, n))


def test_names_are_escaped_and_an_empty_schedule_draws_nothing() -> None:
    chart = gantt_chart({"<b>": ScheduledTask(agent="a&b", start=0.0, finish=1.0)})
    assert chart is not None
    assert "&lt;b&gt;" in chart.svg and "a&amp;b" in chart.svg and "<b>" not in chart.svg
    assert gantt_chart({}) is None


def test_the_report_page_has_a_gantt_only_when_the_plan_has_a_schedule() -> None:
    from allocator.reports.html_report import render_report_html
    from tests.synthetic_report import synthetic_report

    report = synthetic_report(50, 4, trace_points=5, front_size=0, n_unassigned=0)
    assert report.chosen is not None and report.chosen.plan.schedule is None
    assert 'data-chart="gantt"' not in render_report_html(report)
    schedule = _schedule(12, 3, 1)
    chosen = report.chosen.model_copy(
        update={"plan": report.chosen.plan.model_copy(update={"schedule": schedule})}
    )
    html = render_report_html(report.model_copy(update={"chosen": chosen}))
    assert html.count('data-chart="gantt"') == 1 and 'id="schedule"' in html
    assert len(_bars(html)) == 12
    assert "Critical path: " in html
