"""HTML and JSON reports people look at: the comparison page and batch comparisons."""

from __future__ import annotations

from typing import Any

__all__ = ["render_report_html"]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): the HTML report brings Jinja2 and the SVG charts, and every CLI
    # solve imports this package for `objective_sense` before its solve starts.
    if name == "render_report_html":
        from allocator.reports.html_report import render_report_html

        return render_report_html
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
