"""The web dashboard at `/`: jobs with links to their reports, and a live view of each
swarm that refreshes in place (a server-rendered fragment fetched every few seconds).

Auth: with ALLOCATOR_API_TOKEN set, a browser signs in once; the cookie holds an HMAC
of the token, never the token. A bearer header works too, as on the API.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from api.dashboard_views import SwarmLive, topology_svg
from api.history_charts import line_chart_svg
from api.kpi_history import KpiHistory
from api.schemas import job_view
from api.security import client_of

__all__ = ["COOKIE", "REFRESH_S", "router"]

router = APIRouter(include_in_schema=False)
COOKIE = "allocator_dashboard"
REFRESH_S = 2.0
_JOB_ROWS = 30
_HTML_REPORT_KINDS = ("allocation", "comparison", "batch")


def _number(value: float | None) -> str:
    """Objectives in plain digits with separators (9,163.96, not 9.16e+03)."""
    if value is None:
        return "–"
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.2f}"
    return f"{value:.3g}"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.0f}%"
    env.filters["ms"] = lambda v: "–" if v is None else f"{1000 * v:.0f} ms"
    env.filters["num"] = _number
    return env


def _token(request: Request) -> str | None:
    token: str | None = request.app.state.services.api_token
    return token


def _cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"allocator-dashboard", hashlib.sha256).hexdigest()


def _signed_in(request: Request) -> bool:
    token = _token(request)
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), _cookie_value(token).encode())


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env().get_template(name).render(**context)
    # The pages load nothing from anywhere; say so to the browser as well.
    csp = "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": csp})


async def _live_context(request: Request) -> dict[str, Any]:
    services = request.app.state.services
    records = await services.jobs.list(kind=None, status=None, limit=_JOB_ROWS, offset=0)
    jobs = [job_view(r) for r in records]
    feed = getattr(request.app.state, "swarm_feed", None)
    swarms: list[SwarmLive] = list(feed()) if feed is not None else []
    drawings = {
        s.name: Markup(topology_svg(s.topology)) if s.topology is not None else Markup("")
        for s in swarms
    }
    history: KpiHistory | None = getattr(request.app.state, "kpi_history", None)
    return {
        "jobs": jobs,
        "html_kinds": _HTML_REPORT_KINDS,
        "swarms": swarms,
        "drawings": drawings,
        "histories": {s.name: _history_charts(history, s.name) for s in swarms},
        "has_feed": feed is not None,
        "breakers": services.runner.breakers.view() if services.runner is not None else {},
    }


def _history_charts(history: KpiHistory | None, swarm: str) -> Markup:
    """Utilisation, queue latency and throughput over the last minutes, as inline SVG."""
    if history is None:
        return Markup("")
    series = history.series(swarm)
    window = history.history_s
    charts = (
        line_chart_svg(
            "in_use",
            "In use (leased / slots)",
            series["in_use"],
            lambda v: f"{100 * v:.0f}%",
            window_s=window,
            floor_max=1.0,
        ),
        line_chart_svg(
            "latency_p95",
            "Queue latency p95",
            series["latency_p95_s"],
            lambda v: f"{1000 * v:,.0f} ms",
            window_s=window,
        ),
        line_chart_svg(
            "throughput",
            "Completed per second",
            series["throughput_per_s"],
            lambda v: f"{v:,.1f}/s",
            window_s=window,
        ),
    )
    return Markup("".join(charts))  # every text inside is escaped


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    """The whole page; without a valid sign-in, the sign-in form (401)."""
    if not _signed_in(request):
        return _page("login.html.j2", status=401, error=None)
    context = await _live_context(request)
    return _page("dashboard.html.j2", refresh_ms=int(REFRESH_S * 1000), **context)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """No icon: an empty answer, not a 404 in every browser console."""
    return Response(status_code=204)


@router.get("/dashboard/live", response_class=HTMLResponse)
async def live_fragment(request: Request) -> Response:
    """The live part of the page as an HTML fragment, for the page's refresh loop."""
    if not _signed_in(request):
        return Response(status_code=401)
    return _page("_live.html.j2", **(await _live_context(request)))


@router.post("/dashboard/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the token from the form and set the session cookie."""
    token = _token(request)
    throttle = request.app.state.services.auth_throttle
    wait_s = throttle.retry_after(client_of(request)) if token else None
    if wait_s is not None:
        error = f"Too many failed sign-ins from here; try again in {wait_s} s."
        page = _page("login.html.j2", status=429, error=error)
        page.headers["Retry-After"] = str(wait_s)
        return page
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    given = (form.get("token") or [""])[0].strip()
    if token and not hmac.compare_digest(given.encode(), token.encode()):
        throttle.failed(client_of(request))
        return _page("login.html.j2", status=401, error="That token is not valid here.")
    response = RedirectResponse("/", status_code=303)
    if token:
        response.set_cookie(
            COOKIE, _cookie_value(token), httponly=True, samesite="strict", path="/"
        )
    return response


@router.get("/dashboard/jobs/{job_id}/report", response_class=HTMLResponse)
async def job_report(job_id: str, request: Request) -> Response:
    """A job's HTML report, reachable by a signed-in browser (which sends no bearer header)."""
    if not _signed_in(request):
        return _page("login.html.j2", status=401, error=None)
    html = await request.app.state.services.jobs.report_html(job_id)
    return HTMLResponse(html)
