"""The ASGI app around a Service: handler at ``/``, typed commands, setup, meta, health, async jobs, metrics."""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from digitalhub_runtime_python.execution.arguments import ArgumentError
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.serving.commands import CommandSpec
from digitalhub_runtime_python.serving.config import ServeConfig
from digitalhub_runtime_python.serving.drain import Gate
from digitalhub_runtime_python.serving.errors import (
    HandlerFailure,
    RequestError,
    describe_failure,
    error_response,
    install_error_handlers,
    new_error_id,
    response_for,
)
from digitalhub_runtime_python.serving.events import Event
from digitalhub_runtime_python.serving.jobs import FINISHED, Job, JobManager, Work
from digitalhub_runtime_python.serving.metrics import ServeMetrics
from digitalhub_runtime_python.serving.responses import Renderer, is_stream, json_bytes
from digitalhub_runtime_python.serving.service import Service

HANDLER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description="Caller-chosen job id")]
WaitSeconds = Annotated[
    float, Query(ge=0, le=60, description="Long poll: wait up to this many seconds for the job to finish")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobRequest(_Strict):
    args: Any = Field(None, description="The request: the handler's event body, or the command's inputs")
    command: str | None = Field(None, description="A command's name; the handler at / when omitted")
    request_id: RequestId | None = None


class BatchItem(_Strict):
    args: Any = None
    request_id: RequestId | None = None


class BatchRequest(_Strict):
    command: str | None = None
    requests: list[BatchItem] = Field(min_length=1)


def _not_ready(service: Service, init_error: list[str]) -> str | None:
    if service.ready:
        return None
    return f"not ready: {init_error[0] if init_error else 'the init function is still running'}"


def create_app(
    service: Service, config: ServeConfig, on_init_error: Callable[[BaseException], None] | None = None
) -> tuple[ServeMetrics, Gate]:
    """The served app behind its gate (concurrency limit, drain) and its metrics (``GET /metrics``): the ASGI app
    to serve, and the gate the server drains. Init runs in the background after start."""
    debug = config.debug
    render = Renderer(debug, stream_grace=config.drain_timeout)
    jobs = JobManager(config.job_workers, config.job_ttl, config.max_jobs, debug)
    unfinished: weakref.WeakSet[Job] = weakref.WeakSet()  # what the metrics count; the manager holds the jobs
    init_error: list[str] = []

    async def initialise() -> None:
        try:
            await service.initialise({**service.run.spec.init_parameters, **config.options})
        except Exception as exc:
            describe_failure(exc, new_error_id(), debug)
            init_error.append(f"{type(exc).__name__}: {exc}")
            if on_init_error is not None:
                on_init_error(exc)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(initialise())
        try:
            yield
        finally:
            task.cancel()
            await jobs.close()

    app = FastAPI(
        title=f"{service.handler_name} ({service.run.name})",
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

    def require_ready() -> None:
        reason = _not_ready(service, init_error)
        if reason is not None:
            raise HTTPException(503, reason)

    # Health and description

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "in_flight": gate.in_flight, "draining": gate.draining}

    @app.get("/readyz", tags=["health"], summary="Readiness: initialised and not draining")
    async def readyz() -> Response:
        if gate.draining:
            return error_response(503, "draining: the server is shutting down")
        if init_error:
            return error_response(503, f"init failed: {init_error[0]}")
        if not service.ready:
            return error_response(503, "initialising: the init function is still running")
        return Response(b'{"status":"ready"}', media_type="application/json")

    @app.get("/meta", tags=["service"], summary="Init options and commands, as JSON")
    async def meta() -> dict[str, Any]:
        return service.meta()

    @app.post("/setup", tags=["service"], summary="Run the init function again with new options")
    async def setup(options: Annotated[dict[str, Any] | None, Body()] = None) -> dict[str, Any]:
        try:
            merged = await service.initialise(options or {})
        except (SpecError, ArgumentError):
            raise
        except Exception as exc:
            raise HandlerFailure() from exc
        return {"options": merged}

    # The handler at /: served by HandlerEndpoint (below) in front of FastAPI's router, documented here
    _document_handler(app, service.handler_name)

    # Typed commands

    for spec in service.commands.values():
        app.add_api_route(
            f"/{spec.name}",
            _command_endpoint(service, spec, require_ready, render),
            methods=["POST"],
            tags=["commands"],
            summary=spec.description or f"Command {spec.name}",
            response_model=spec.outputs,
            name=f"command_{spec.name}",
        )

    # Async jobs

    def work_for(command: str | None, args: Any, request: Request) -> Work:
        headers = dict(request.headers)
        if command is None:
            event = Event("POST", "/", json_bytes(args), args, b"", headers)
            return lambda: service.call_handler(event)
        spec = service.commands.get(command)
        if spec is None:
            known = ", ".join(service.commands) or "none"
            raise RequestError(404, f"command {command!r} does not exist (commands: {known})")
        try:
            values = (
                validate(spec.inputs, args or {}, f"inputs of {command}").model_dump() if spec.inputs else (args or {})
            )
        except SpecError as exc:  # the same status as the command's own route
            raise RequestError(422, str(exc)) from None
        event = Event("POST", f"/{command}", json_bytes(args), args, b"", headers)

        async def work() -> Any:
            value = await service.call_command(command, values, event)
            return (
                validate(spec.outputs, value, f"outputs of {command}").model_dump(mode="json")
                if spec.outputs
                else value
            )

        return work

    @app.post("/jobs", tags=["jobs"], status_code=202, summary="Submit an async request; poll GET /jobs/{id}")
    async def submit(job: JobRequest, request: Request) -> dict[str, Any]:
        require_ready()
        [created] = jobs.submit([(job.request_id, work_for(job.command, job.args, request))])
        unfinished.add(created)
        return created.view()

    @app.post("/jobs/batch", tags=["jobs"], status_code=202, summary="Submit several async requests with their ids")
    async def submit_batch(batch: BatchRequest, request: Request) -> dict[str, Any]:
        require_ready()
        created = jobs.submit(
            [(item.request_id, work_for(batch.command, item.args, request)) for item in batch.requests]
        )
        unfinished.update(created)
        return {"jobs": [job.view() for job in created]}

    @app.get("/jobs/{job_id}", tags=["jobs"], summary="Status of a job")
    async def job_status(job_id: str, wait: WaitSeconds = 0.0) -> dict[str, Any]:
        return (await jobs.wait(job_id, wait)).view()

    @app.get("/jobs/{job_id}/result", tags=["jobs"], summary="Result of a job (202 while it is unfinished)")
    async def job_result(job_id: str, wait: WaitSeconds = 0.0) -> Response:
        job = await jobs.wait(job_id, wait)
        return Response(
            json_bytes(job.view(with_result=True)),
            status_code=200 if job.status in FINISHED else 202,
            media_type="application/json",
        )

    @app.delete("/jobs/{job_id}", tags=["jobs"], summary="Cancel a queued or running job")
    async def cancel(job_id: str) -> dict[str, Any]:
        return jobs.cancel(job_id).view()

    def job_counts() -> dict[str, int]:
        return Counter(job.status.value for job in list(unfinished) if job.status not in FINISHED)

    return ServeMetrics(gate, lambda: gate.in_flight, job_counts), gate


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

    body = spec.inputs if spec.inputs is not None else Annotated[dict[str, Any] | None, Body()]
    signature = inspect.Signature(
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            inspect.Parameter(
                "inputs",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=body,
                default=inspect.Parameter.empty if spec.inputs is not None else None,
            ),
        ]
    )
    setattr(endpoint, "__signature__", signature)  # noqa: B010 (functions have no declared __signature__)
    return endpoint
