"""Errors as RFC 9457 `application/problem+json`, each saying what to change."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from models import InputError

__all__ = ["PROBLEM_JSON", "ApiProblem", "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("allocator.api")
_FASTAPI_BODY_ERROR = "There was an error parsing the body"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class ApiProblem(Exception):
    """Raise from service code to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error path of the app answers with problem+json."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(
            exc.status, exc.detail, title=exc.title, instance=request.url.path, headers=exc.headers
        )

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return problem_response(422, str(exc), instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
            # FastAPI's 400 for a body it cannot decode (bytes that are not UTF-8) says
            # nothing to fix; it is the same user error as malformed JSON, so the same 422.
            return problem_response(
                422,
                "the request body is not valid JSON text (UTF-8); send a JSON document",
                instance=request.url.path,
            )
        return problem_response(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "location": ".".join(str(p) for p in err.get("loc", ())),
                "message": str(err.get("msg", "invalid value")),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"location": "request", "message": "invalid"}
        detail = f"{first['location']}: {first['message']}"
        return problem_response(422, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(DBAPIError)
    async def _storage_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # A full or read-only disk, or a database that went away: the request may be
        # retried as is; readiness reports not ready until a write succeeds again.
        reason = request.app.state.services.store.health.failed(exc)
        log.warning("storage unavailable", extra={"path": request.url.path, "reason": reason})
        return problem_response(
            503,
            f"storage unavailable: the database could not be written ({reason}); "
            "nothing was changed, retry later",
            title="Storage unavailable",
            instance=request.url.path,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            500,
            "the service failed on this request; it is logged. Retry, or report it",
            instance=request.url.path,
        )
