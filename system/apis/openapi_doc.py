"""The OpenAPI document of an Ecoeco API, as the API really answers.

FastAPI documents a route's success and its 422 (with a schema we never send). Every error here has
one shape, `{"error": ...}`, and some statuses come from every route rather than its own code: a
malformed body (400), a body too large (413), an invalid or missing token (401), a database or
broker outage (503), a commit whose outcome is unknown (504). They are added here once, with the
error schema and bearer auth as a security scheme; a route's own statuses are declared at the route
with `errors(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
REASONS = {
    400: "Malformed request body",
    401: "Missing, malformed, expired or forged bearer token",
    404: "No such resource",
    409: "The id is already used by another user",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "A field is missing or invalid",
    429: "Too many failed attempts; see Retry-After",
    500: "A bug: never expected",
    503: "A backing service (database, broker, GPT) is unavailable; nothing was done",
    504: "The database did not confirm the commit: the outcome is unknown, retry with the same id",
}


class ErrorBody(BaseModel):
    """The one error shape of every API."""

    error: str


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's own error statuses, for its decorator's `responses=`."""
    return {s: {"model": ErrorBody, "description": REASONS[s]} for s in statuses}


def _error_response(status: int) -> dict[str, Any]:
    return {"description": REASONS[status], "content": {"application/json": {"schema": ERROR_REF}}}


def _common_statuses(route: APIRoute, method: str, secured: bool) -> list[int]:
    statuses = [422, 500, 503] if route.path != "/metrics" else [500]
    if route.body_field is not None:
        statuses += [400, 413]
    if secured:
        statuses.append(401)
    if method in {"post", "put"}:
        statuses.append(504)  # a write's COMMIT may be lost
    return statuses


def document(app: FastAPI, is_secured: Callable[[APIRoute], bool]) -> None:
    """Replace the app's OpenAPI builder with one that documents every status the API answers."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
        components = spec.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["ErrorBody"] = ErrorBody.model_json_schema()
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        for route in app.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            secured = is_secured(route)
            for method in route.methods or ():
                operation = spec["paths"][route.path_format][method.lower()]
                responses = operation.setdefault("responses", {})
                for status in _common_statuses(route, method.lower(), secured):
                    # a route's own declaration wins (/health's 503 has its own body), but FastAPI's
                    # 422 describes a body this API never sends
                    if str(status) not in responses or status == 422:
                        responses[str(status)] = _error_response(status)
                if secured:
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]  # FastAPI's documented way to customise it
