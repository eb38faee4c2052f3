"""Solve reports carry the Why section: in the JSON report and as a section of the HTML page."""

from __future__ import annotations

from allocator.facade import solve
from allocator.reports.html_report import render_report_html
from models import Agent, Problem, RunOptions, Task


def test_report_json_and_html_have_the_why_section() -> None:
    problem = Problem(
        resources=["cpu"],
        agents=[Agent(id="a", capacity={"cpu": 3}), Agent(id="b", capacity={"cpu": 2})],
        tasks=[Task(id=f"t{k}", demand={"cpu": 2}) for k in range(3)],
        allow_unassigned=True,
    )
    report = solve(problem, RunOptions(solvers=["greedy"], time_limit_s=1.0))
    assert report.why is not None and report.chosen is not None
    assert len(report.chosen.plan.unassigned) == 1
    assert report.why.unassigned[0].reasons == {"capacity": 2}
    assert {row.agent for row in report.why.agents if row.binding} == {"a", "b"}
    page = render_report_html(report)
    assert '<section id="why">' in page
    assert "capacity: 2" in page
