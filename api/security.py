"""Bearer-token auth for every data route when ALLOCATOR_API_TOKEN is set."""

from __future__ import annotations

import hmac

from fastapi import Request

from api.auth_throttle import FailedAuthThrottle
from api.problems import ApiProblem

__all__ = ["TokenRequired", "check_token", "client_of", "refuse_if_throttled", "require_token"]


class TokenRequired(ApiProblem):
    """401 with the challenge header the spec asks for."""

    def __init__(self, detail: str):
        super().__init__(401, detail, headers={"WWW-Authenticate": 'Bearer realm="allocator"'})


def client_of(request: Request) -> str:
    """The client's address (what failed attempts are counted by)."""
    return request.client.host if request.client else "unknown"


def refuse_if_throttled(request: Request) -> None:
    """429 while this client has failed too many token checks in the last minute."""
    throttle: FailedAuthThrottle = request.app.state.services.auth_throttle
    wait_s = throttle.retry_after(client_of(request))
    if wait_s is not None:
        raise ApiProblem(
            429,
            f"too many failed token checks from this client; retry in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )


async def require_token(request: Request) -> None:
    """FastAPI dependency (async: a sync one costs every request a thread hop)."""
    check_token(request)


def check_token(request: Request) -> None:
    """Refuse a missing or wrong bearer token; constant-time compare so timing leaks nothing."""
    expected: str | None = request.app.state.services.api_token
    if not expected:
        return
    refuse_if_throttled(request)
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise TokenRequired(
            "this service needs `Authorization: Bearer <token>` (ALLOCATOR_API_TOKEN)"
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        request.app.state.services.auth_throttle.failed(client_of(request))
        raise TokenRequired("the bearer token is not valid for this service; check the token")
