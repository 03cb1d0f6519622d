"""Rendering every failure as application/problem+json (RFC 9457), never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from confide_server.errors import PROBLEM_BASE, Conflict, RelayError, Unavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 413: "too-large", 400: "invalid-input"}


def problem_response(status: int, body: dict[str, object]) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _location(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "body") or "body"


async def relay_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RelayError)
    response = problem_response(exc.status, exc.problem(request.url.path))
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only locations and messages go back: echoing the input could reflect secrets.
    errors = [{"loc": _location(tuple(e["loc"])), "msg": e["msg"]} for e in exc.errors()]
    detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
    body: dict[str, object] = {
        "type": PROBLEM_BASE + "invalid-input",
        "title": "Invalid input",
        "status": 400,
        "detail": detail,
        "errors": errors,
        "instance": request.url.path,
    }
    return problem_response(400, body)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
    body: dict[str, object] = {
        "type": PROBLEM_BASE + slug,
        "title": str(exc.detail),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "instance": request.url.path,
    }
    return problem_response(exc.status_code, body)


async def storage_error(request: Request, exc: Exception) -> JSONResponse:
    """A database fault is not the client's: a race on a unique key is a conflict, the rest
    is "try again" (sends and acks are idempotent, so retrying is always safe)."""
    if isinstance(exc, IntegrityError):
        failure: RelayError = Conflict("a concurrent request changed the same record; retry")
    else:
        log.warning("storage error on %s: %s", request.url.path, type(exc).__name__)
        failure = Unavailable("storage is temporarily unavailable; retry")
    return await relay_error(request, failure)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled %s on %s", type(exc).__name__, request.url.path)
    return problem_response(500, RelayError("unexpected error").problem(request.url.path))


def install(app: FastAPI) -> None:
    _document_problems(app)
    app.add_exception_handler(RelayError, relay_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIError, storage_error)
    app.add_exception_handler(Exception, unexpected)


def _document_problems(app: FastAPI) -> None:
    """Put the Problem schema into the OpenAPI document's components, where every route's
    error responses refer to it (api/types.py says why they refer instead of naming it)."""
    from confide_server.api.types import Problem

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
