"""Structured error bodies ``{id, code, details}``: what went wrong, never a traceback unless debug is on."""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ..models import SpecError
from ..execution import ArgumentError
from .events import BodyError

logger = logging.getLogger("digitalhub.serving")


class HandlerFailure(Exception):
    """User code raised while answering a request; ``__cause__`` is the original exception."""


def new_error_id() -> str:
    return uuid.uuid4().hex


def error_body(code: int, details: str, error_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": error_id or new_error_id(), "code": code, "details": details, **extra}


def error_response(code: int, details: str, error_id: str | None = None, headers: dict[str, str] | None = None,
                   **extra: Any) -> Response:
    body = json.dumps(error_body(code, details, error_id, **extra), default=str).encode()
    return Response(body, status_code=code, media_type="application/json", headers=headers)


def describe_failure(exc: BaseException, error_id: str, debug: bool) -> tuple[str, dict[str, Any]]:
    """Details for a failure of user code, logged with its id; the message and traceback go out only in debug."""
    logger.error("error %s: %s: %s", error_id, type(exc).__name__, exc, exc_info=exc)
    if debug:
        return f"{type(exc).__name__}: {exc}", {"traceback": "".join(traceback.format_exception(exc))}
    return f"the handler raised {type(exc).__name__}; the server log has the details under error id {error_id}", {}


def _validation_details(exc: RequestValidationError | ResponseValidationError) -> str:
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(problems)


def install_error_handlers(app: FastAPI, debug: bool) -> None:
    """Every error the app answers has the ``{id, code, details}`` shape."""

    async def http_error(_request: Request, exc: HTTPException) -> Response:
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    async def invalid_request(_request: Request, exc: RequestValidationError) -> Response:
        return error_response(422, f"invalid request: {_validation_details(exc)}")

    async def invalid_input(_request: Request, exc: Exception) -> Response:
        return error_response(400, str(exc))

    async def invalid_response(_request: Request, exc: ResponseValidationError) -> Response:
        error_id = new_error_id()
        logger.error("error %s: the command's result does not match its outputs: %s", error_id, _validation_details(exc))
        details = f"the command's result does not match its declared outputs (error id {error_id})"
        if debug:
            details += f": {_validation_details(exc)}"
        return error_response(500, details, error_id)

    async def handler_failed(_request: Request, exc: HandlerFailure) -> Response:
        error_id = new_error_id()
        cause = exc.__cause__ or exc
        if isinstance(cause, HTTPException):
            return await http_error(_request, cause)
        details, extra = describe_failure(cause, error_id, debug)
        return error_response(500, details, error_id, **extra)

    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(ResponseValidationError, invalid_response)  # type: ignore[arg-type]
    for kind in (SpecError, BodyError, ArgumentError):
        app.add_exception_handler(kind, invalid_input)
    app.add_exception_handler(HandlerFailure, handler_failed)  # type: ignore[arg-type]
