"""Complete the OpenAPI document: raw-JSON request bodies and the problem+json errors.

Job routes read their bodies themselves (for readable errors), so their schemas are
added here; and every error the service can give on an operation is declared as
`application/problem+json`, which is what the problem handlers answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from allocator.topology_facade import TopologyRequest
from api.problems import PROBLEM_JSON
from api.schemas import AllocationRequest, BatchComparisonRequest

__all__ = ["install_openapi"]

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `detail` says what to change.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_OPEN_PATHS = ("/healthz", "/readyz")  # no token needed
_COMMON = {
    "401": "Missing or wrong bearer token (when ALLOCATOR_API_TOKEN is set).",
    "404": "No such resource.",
    "413": "Body too large (ALLOCATOR_MAX_BODY_BYTES).",
    "422": "Invalid request; `detail` says what to change.",
}
_BODY_MODELS: tuple[type[BaseModel], ...] = (
    AllocationRequest,
    BatchComparisonRequest,
    TopologyRequest,
)


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with one that builds the completed document once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in _BODY_MODELS:
                doc = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(doc.pop("$defs", {}))
                components[model.__name__] = doc
            components["Problem"] = _PROBLEM_SCHEMA
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    _declare_errors(path, operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_errors(path: str, operation: dict[str, Any]) -> None:
    """Every 4xx/5xx of `operation` is problem+json; add the ones any request may meet."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    wanted = []
    if path not in _OPEN_PATHS:
        wanted.append("401")
    if any(p.get("in") == "path" for p in parameters):
        wanted.append("404")
    if "requestBody" in operation:
        wanted += ["413", "422"]
    elif parameters:
        wanted.append("422")
    for code in wanted:
        responses.setdefault(code, {"description": _COMMON[code]})
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for code, response in responses.items():
        if code[:1] in ("4", "5"):
            response["content"] = problem
            if response.get("description") == "Validation Error":
                response["description"] = _COMMON["422"]
