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

from digitalhub_runtime_python.execution.arguments import ArgumentError
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.serving.events import BodyError

logger = logging.getLogger("digitalhub.serving")


class HandlerFailure(Exception):
    """User code raised while answering a request; ``__cause__`` is the original exception."""


class RequestError(Exception):
    """A request the server refuses; ``code`` is the HTTP status to answer, ``headers`` go with it."""

    def __init__(self, code: int, details: str, headers: dict[str, str] | None = None):
        super().__init__(details)
        self.code, self.headers = code, headers


def new_error_id() -> str:
    return uuid.uuid4().hex


def error_body(code: int, details: str, error_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": error_id or new_error_id(), "code": code, "details": details, **extra}


def error_response(
    code: int, details: str, error_id: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
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
        problems.append(f"{location or 'body'}: {error.get('msg', 'invalid').removeprefix('Value error, ')}")
    return "; ".join(problems)


def response_for(exc: Exception, debug: bool) -> Response:
    """The structured response for an exception raised while answering a request."""
    if isinstance(exc, HandlerFailure):
        exc = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))
    if isinstance(exc, RequestError):
        return error_response(exc.code, str(exc), headers=exc.headers)
    if isinstance(exc, RequestValidationError):  # bad input: 400 naming each field, like bad init options
        return error_response(400, f"invalid request: {_validation_details(exc)}")
    if isinstance(exc, (SpecError, BodyError, ArgumentError)):
        return error_response(400, str(exc))
    error_id = new_error_id()
    if isinstance(exc, ResponseValidationError):
        logger.error(
            "error %s: the command's result does not match its outputs: %s", error_id, _validation_details(exc)
        )
        details = f"the command's result does not match its declared outputs (error id {error_id})"
        return error_response(500, details + (f": {_validation_details(exc)}" if debug else ""), error_id)
    details, extra = describe_failure(exc, error_id, debug)
    return error_response(500, details, error_id, **extra)


def install_error_handlers(app: FastAPI, debug: bool) -> None:
    """Every error the app answers has the ``{id, code, details}`` shape."""

    async def handle(_request: Request, exc: Exception) -> Response:
        return response_for(exc, debug)

    for kind in (
        HTTPException,
        RequestError,
        RequestValidationError,
        ResponseValidationError,
        SpecError,
        BodyError,
        ArgumentError,
        HandlerFailure,
    ):
        app.add_exception_handler(kind, handle)
