"""The Jinja2 environment shared by the HTML reports (templates ship as package data)."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape

from allocator.reports.svg_axes import fmt_number

__all__ = ["template_env"]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}%"


def _secs(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


@lru_cache(maxsize=1)
def template_env() -> Environment:
    """Autoescaping environment; charts arrive as `Markup` so they are not escaped."""
    env = Environment(
        loader=PackageLoader("allocator.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.filters["pct"] = _pct
    env.filters["secs"] = _secs
    return env
