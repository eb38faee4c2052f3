"""HTML and JSON reports people look at: the comparison page and batch comparisons."""

from __future__ import annotations

from allocator.reports.html_report import render_report_html

__all__ = ["render_report_html"]
