"""The ASGI app around a Service: handler at ``/``, typed commands, setup, meta, health, async jobs, metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, FastAPI, Request
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from digitalhub_runtime_python.execution.arguments import ArgumentError
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.serving.auth import require_admin
from digitalhub_runtime_python.serving.commands import CommandSpec
from digitalhub_runtime_python.serving.config import ServeConfig
from digitalhub_runtime_python.serving.drain import Gate
from digitalhub_runtime_python.serving.errors import (
    HandlerFailure,
    describe_failure,
    error_response,
    install_error_handlers,
    new_error_id,
    response_for,
)
from digitalhub_runtime_python.serving.events import Event
from digitalhub_runtime_python.serving.info import install_info
from digitalhub_runtime_python.serving.jobs.routes import AsyncJobs
from digitalhub_runtime_python.serving.metrics import ServeMetrics
from digitalhub_runtime_python.serving.models_admin import ModelRegistry, install_models
from digitalhub_runtime_python.serving.requests import install_requests
from digitalhub_runtime_python.serving.responses import Renderer, is_stream
from digitalhub_runtime_python.serving.service import Service
from digitalhub_runtime_python.serving.signatures import with_inputs_body
from digitalhub_runtime_python.serving.training import install_training

HANDLER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _not_ready(service: Service, init_error: list[str]) -> str | None:
    if service.ready:
        return None
    return f"not ready: {init_error[0] if init_error else 'the init function is still running'}"


def create_app(
    service: Service, config: ServeConfig, on_init_error: Callable[[BaseException], None] | None = None
) -> tuple[ServeMetrics, Gate]:
    """The served app behind its gate (concurrency limit, drain) and its metrics (``GET /metrics``): the ASGI app
    to serve, and the gate the server drains. Init runs in the background after start, and so does connecting the
    job store; the job workers start once both are done."""
    debug = config.debug
    render = Renderer(debug, stream_grace=config.drain_timeout)
    init_error: list[str] = []
    jobs = AsyncJobs(service, config)
    registry = ModelRegistry(service, debug)

    async def initialise() -> None:
        try:
            await service.initialise({**service.run.spec.init_parameters, **config.options})
        except Exception as exc:
            describe_failure(exc, new_error_id(), debug)
            init_error.append(f"{type(exc).__name__}: {exc}")
            if on_init_error is not None:
                on_init_error(exc)

    async def start_jobs() -> None:
        await jobs.open()
        await service.initialised.wait()
        jobs.start()
        gate.ready.set()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(initialise()), asyncio.create_task(start_jobs())]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await jobs.close()
            registry.close()

    app = FastAPI(
        title=f"{service.handler_name or 'commands'} ({service.run.name})",
        version=service.run.id,
        lifespan=lifespan,
        description=f"Serves run {service.run.key}",
    )
    gate = Gate(
        HandlerEndpoint(app, service, render, lambda: _not_ready(service, init_error)),
        config.max_concurrency,
        config.max_body_size,
    )
    install_error_handlers(app, debug)
    drain_end = config.drain_delay + config.drain_timeout  # seconds after SIGTERM until jobs in hand go back
    gate.on_drain.append(lambda: jobs.runner.stop_taking(time.monotonic() + drain_end))

    def require_ready() -> None:
        reason = _not_ready(service, init_error)
        if reason is not None:
            raise HTTPException(503, reason)

    # Health and description

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "in_flight": gate.in_flight,
            "draining": gate.draining,
            "jobs_running": jobs.runner.in_hand,
        }

    @app.get("/readyz", tags=["health"], summary="Readiness: initialised and not draining")
    async def readyz() -> Response:
        if gate.draining:
            return error_response(503, "draining: the server is shutting down")
        if init_error:
            return error_response(503, f"init failed: {init_error[0]}")
        if not service.ready:
            return error_response(503, "initialising: the init function is still running")
        reason = jobs.not_ready()
        if reason is not None:
            return error_response(503, reason)
        return Response(b'{"status":"ready"}', media_type="application/json")

    @app.get("/meta", tags=["service"], summary="Init options and commands, as JSON")
    async def meta() -> dict[str, Any]:
        return service.meta()

    @app.post(
        "/setup",
        tags=["service"],
        summary="Run the init function again with new options (needs the admin token: 'Authorization: Bearer')",
    )
    async def setup(request: Request, options: Annotated[dict[str, Any] | None, Body()] = None) -> dict[str, Any]:
        require_admin(config.admin_token, request.headers.get("authorization"), "POST /setup")
        try:
            merged = await service.initialise(options or {})
        except (SpecError, ArgumentError):
            raise
        except Exception as exc:
            raise HandlerFailure() from exc
        return {"options": merged}

    # The handler at /: served by HandlerEndpoint (below) in front of FastAPI's router, documented here
    if service.handler_name is not None:
        _document_handler(app, service.handler_name)

    # Typed commands (training ones run as jobs: serving/training.py)

    for spec in service.commands.values():
        if spec.training:
            continue
        app.add_api_route(
            f"/{spec.name}",
            _command_endpoint(service, spec, require_ready, render),
            methods=["POST"],
            tags=["commands"],
            summary=spec.description or f"Command {spec.name}",
            response_model=spec.outputs,
            name=f"command_{spec.name}",
        )

    # Async jobs; requests with options, training, models, runtime info

    jobs.install(app, require_ready)
    install_requests(app, jobs, require_ready)
    install_training(app, jobs, require_ready)
    install_models(app, registry, config.admin_token)
    install_info(app, service)

    def jobs_in_hand() -> dict[str, int]:
        return {"RUNNING": jobs.runner.in_hand}

    return ServeMetrics(gate, lambda: gate.in_flight, jobs_in_hand), gate


class HandlerEndpoint:
    """The handler at ``/`` as a plain ASGI app in front of FastAPI: the hot path pays for no routing or
    dependency resolution. Errors get the same ``{id, code, details}`` bodies as everywhere else."""

    def __init__(self, app: FastAPI, service: Service, render: Renderer, not_ready: Callable[[], str | None]):
        self.app, self.service, self.render, self.not_ready = app, service, render, not_ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/":
            await self.app(scope, receive, send)
            return
        try:
            response = await self._respond(scope, receive)
        except ClientDisconnect:  # the client went away before sending its body: nobody to answer
            return
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive) -> Response:
        if scope["method"] not in HANDLER_METHODS:
            return error_response(
                405,
                f"method {scope['method']} is not allowed on /: use {', '.join(HANDLER_METHODS)}",
                headers={"allow": ", ".join(HANDLER_METHODS)},
            )
        reason = self.not_ready()
        if reason is not None:
            return error_response(503, reason)
        try:
            data = await _read_body(receive)
            return self.render(await self.service.call_handler(Event.from_scope(scope, data)))
        except ClientDisconnect:
            raise
        except Exception as exc:
            return response_for(exc, self.render.debug)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _document_handler(app: FastAPI, handler_name: str) -> None:
    """Add ``/`` (served outside FastAPI's router) to the OpenAPI document."""
    operation = {
        "tags": ["handler"],
        "summary": f"Call {handler_name}",
        "description": "Any JSON (or other) body; the handler gets it as event.body.",
        "requestBody": {"content": {"application/json": {"schema": {}}}},
        "responses": {"200": {"description": "What the handler returned: JSON, bytes, or an event stream"}},
    }
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema["paths"] = {
                "/": {m.lower(): {**operation, "operationId": f"handler_{m.lower()}"} for m in HANDLER_METHODS},
                **schema["paths"],
            }
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _command_endpoint(
    service: Service, spec: CommandSpec, require_ready: Callable[[], None], render: Renderer
) -> Callable[..., Any]:
    """An endpoint taking the command's inputs model as its JSON body (so OpenAPI shows it)."""

    async def endpoint(request: Request, inputs: Any = None) -> Any:
        require_ready()
        values = inputs.model_dump() if isinstance(inputs, BaseModel) else (inputs or {})
        event = Event.from_scope(request.scope, await request.body())
        try:
            value = await service.call_command(spec.name, values, event)
            if spec.outputs is None or isinstance(value, Response) or is_stream(value):
                return render(value)
        except HTTPException:
            raise
        except Exception as exc:  # user code failed: a structured 500 (FastAPI would re-raise it)
            raise HandlerFailure() from exc
        return value  # FastAPI checks it against the declared outputs

    return with_inputs_body(endpoint, spec)
