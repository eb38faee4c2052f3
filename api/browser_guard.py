"""Browser safety for a service that may run without a token (the `make run` default).

Three checks, before any route runs:
- Host must be one this service answers to (loopback names by default), so a page
  on another site cannot reach it through DNS rebinding.
- A state-changing request (POST, PUT, PATCH, DELETE) that carries an Origin must
  come from this service's own origin (or an allowed one): browsers always send
  Origin on cross-site requests, and a cross-site "simple" request (a form, or a
  text/plain fetch) is sent without any preflight.
- An API body (under /v1/) that says its type must say JSON: `application/json` or
  `application/*+json` (415 otherwise), so no HTML form or text/plain request can
  pass for one. An untyped body is read as JSON (curl, scripts); a browser cannot
  send one cross-site without an Origin, which the check above refuses.
Clients that are not browsers (curl, httpx, agents) send no Origin and are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import problem_response

__all__ = ["BrowserGuard"]

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class BrowserGuard:
    """ASGI middleware: trusted hosts, same-origin state changes, JSON bodies."""

    def __init__(
        self, app: ASGIApp, trusted_hosts: Iterable[str], allowed_origins: Iterable[str] = ()
    ):
        self.app = app
        hosts = {h.strip().lower().strip("[]") for h in trusted_hosts if h.strip()}
        self.any_host = "*" in hosts
        self.trusted_hosts = hosts
        self.allowed_origins = {o.strip().rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope, Headers(scope=scope))
        if problem is not None:
            status, detail = problem
            response = problem_response(status, detail, instance=scope.get("path", ""))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _problem(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        host_header = headers.get("host", "")
        host = _hostname(host_header)
        if not self.any_host and host not in self.trusted_hosts:
            return 400, (
                f"this service does not answer to the host name {host or '(none)'!r}; "
                "add it to ALLOCATOR_TRUSTED_HOSTS if it is really this service"
            )
        method = scope["method"]
        if method not in _UNSAFE:
            return None
        origin = headers.get("origin")
        if origin is not None and not self._same_origin(origin, host_header):
            return 403, (
                f"a {method} from the web page at {origin!r} is refused: state changes are "
                "accepted from this service's own pages only (ALLOCATOR_ALLOWED_ORIGINS)"
            )
        path = scope.get("path", "")
        if method in _WITH_BODY and path.startswith("/v1/") and _has_body(headers):
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media and not _is_json(media):
                return 415, (
                    f"the body is {media}; send JSON with `Content-Type: application/json`"
                )
        return None

    def _same_origin(self, origin: str, host_header: str) -> bool:
        origin = origin.strip().rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host_header.lower()


def _hostname(host_header: str) -> str:
    """The host name of a Host header, without port or IPv6 brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _has_body(headers: Headers) -> bool:
    if "transfer-encoding" in headers:
        return True
    try:
        return int(headers.get("content-length", "0") or "0") > 0
    except ValueError:
        return True


def _is_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )
