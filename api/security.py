"""Bearer-token auth for every data route when ALLOCATOR_API_TOKEN is set."""

from __future__ import annotations

import hmac

from fastapi import Request

from api.problems import ApiProblem

__all__ = ["TokenRequired", "require_token"]


class TokenRequired(ApiProblem):
    """401 with the challenge header the spec asks for."""

    def __init__(self, detail: str):
        super().__init__(401, detail, headers={"WWW-Authenticate": 'Bearer realm="allocator"'})


def require_token(request: Request) -> None:
    """FastAPI dependency; constant-time compare so timing leaks nothing."""
    expected: str | None = request.app.state.services.api_token
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise TokenRequired(
            "this service needs `Authorization: Bearer <token>` (ALLOCATOR_API_TOKEN)"
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise TokenRequired("the bearer token is not valid for this service; check the token")
