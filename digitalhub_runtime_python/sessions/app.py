"""The session's HTTP API. Every route but the probes needs ``Authorization: Bearer <the session's token>``.

- ``POST /execute`` ``{"mode", "code", "runId", "options", "wait"}`` -> an execution's result (executions.py)
- ``POST /interrupt`` -> ``{"interrupted": bool}``
- ``PUT /files/<path>`` (the file's bytes as body) -> ``{"path", "size"}``, into the session's folder
- ``POST /destroy`` -> ``{"destroyed": true}``, then the kernel stops and the server exits
- ``GET /healthz``, ``GET /readyz``: open, for probes

Plain Starlette (FastAPI's core) rather than FastAPI: a trivial execution is a few milliseconds end to end, and
FastAPI's per-request machinery (dependencies, response validation) would be a good part of them.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from digitalhub_runtime_python.models.errors import format_validation_error
from digitalhub_runtime_python.sessions.runtime import RequestError, SessionRuntime

Endpoint = Callable[[Request], Awaitable[Response]]


class ExecuteRequest(BaseModel):
    """One execute call (the ``options`` of batch mode: ``build``, ``exec``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    mode: str = "query"
    code: str = ""
    run_id: str | None = Field(None, alias="runId", max_length=128)
    options: dict[str, Any] = Field(default_factory=dict)
    wait: float | None = Field(None, ge=0, le=300, description="Seconds to wait for the end or an input request")


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_app(runtime: SessionRuntime, token: str, on_destroy: Callable[[], None]) -> Starlette:
    """The API over ``runtime``; ``on_destroy`` is called when a destroy request is answered."""
    expected = f"Bearer {token}"

    def guarded(endpoint: Endpoint) -> Endpoint:
        async def checked(request: Request) -> Response:
            if not secrets.compare_digest(request.headers.get("authorization", ""), expected):
                return _error(401, "this session needs its token: Authorization: Bearer <token>")
            try:
                return await endpoint(request)
            except RequestError as exc:
                return _error(exc.status, str(exc))

        return checked

    async def probe(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def execute(request: Request) -> Response:
        try:
            body = ExecuteRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return _error(422, str(format_validation_error("execute request", exc)))
        return JSONResponse(await runtime.execute(body.mode, body.code, body.run_id, body.options, body.wait))

    async def interrupt(_request: Request) -> Response:
        return JSONResponse({"interrupted": await runtime.interrupt()})

    async def upload(request: Request) -> Response:
        name = request.path_params["name"]
        target = runtime.upload_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as file:
                async for chunk in request.stream():
                    file.write(chunk)
                    size += len(chunk)
            os.chmod(partial, 0o644)
            os.replace(partial, target)
        except BaseException:
            os.unlink(partial)
            raise
        return JSONResponse({"path": name, "size": size})

    async def destroy(_request: Request) -> Response:
        on_destroy()
        return JSONResponse({"destroyed": True})

    return Starlette(
        routes=[
            Route("/healthz", probe, methods=["GET"]),
            Route("/readyz", probe, methods=["GET"]),
            Route("/execute", guarded(execute), methods=["POST"]),
            Route("/interrupt", guarded(interrupt), methods=["POST"]),
            Route("/files/{name:path}", guarded(upload), methods=["PUT"]),
            Route("/destroy", guarded(destroy), methods=["POST"]),
        ]
    )
