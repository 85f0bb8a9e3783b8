"""The async-job side of a served app: its job store, its workers, and the ``/jobs`` routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, Query, Request
from starlette.responses import Response

from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.serving.auth import require_admin
from digitalhub_runtime_python.serving.commands import CommandSpec
from digitalhub_runtime_python.serving.config import ServeConfig
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.events import Event
from digitalhub_runtime_python.serving.jobs.records import Job, JobRequest
from digitalhub_runtime_python.serving.jobs.results import ResultWriter
from digitalhub_runtime_python.serving.jobs.runner import JobRunner
from digitalhub_runtime_python.serving.jobs.store import JobStoreUnavailable, open_job_store
from digitalhub_runtime_python.serving.jobs.submissions import BatchRequest, JobSubmission, RequestFields
from digitalhub_runtime_python.serving.remote import UrlReader
from digitalhub_runtime_python.serving.responses import ResultError, json_bytes
from digitalhub_runtime_python.serving.service import Service
from digitalhub_runtime_python.serving.training import log_trained_model

logger = logging.getLogger("digitalhub.serving")

WaitSeconds = Annotated[
    float, Query(ge=0, le=60, description="Long poll: wait up to this many seconds for the job to finish")
]
JOB_ID_HEADER, JOB_ATTEMPT_HEADER = "x-digitalhub-job-id", "x-digitalhub-job-attempt"


class AsyncJobs:
    """The job store chosen by the settings, the workers running its jobs through ``service``, and the routes.

    ``open`` connects the store (retrying while it is unreachable, saying why in ``not_ready`` and the log);
    ``start`` starts the workers (once the service is initialised); ``close`` drains them and disconnects."""

    def __init__(self, service: Service, config: ServeConfig):
        self.service = service
        run, project = service.run, service.context.project
        self.store = open_job_store(config, namespace=f"{run.project}:{run.id}")
        self.results = ResultWriter(
            config.job_result_limit, lambda: project.backend.files(project.entity), f"jobs/{run.id}", config.job_ttl
        )
        self.reader = UrlReader(config.input_urls, config.max_body_size)
        self.admin_token = config.admin_token
        self.runner = JobRunner(
            self.store,
            self.execute,
            self.results,
            workers=config.job_workers,
            lease=config.job_visibility_timeout,
            debug=config.debug,
        )
        self._open = asyncio.Event()
        self._unreachable: str | None = None

    # Lifecycle

    async def open(self) -> None:
        delay = 0.1
        while True:
            try:
                await self.store.open()
                break
            except JobStoreUnavailable as exc:
                if self._unreachable != exc.why:
                    logger.warning("not ready: job store %s unreachable: %s (retrying)", self.store.where, exc.why)
                self._unreachable = exc.why
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        logger.info("job store %s open", self.store.where)
        self._open.set()

    def start(self) -> None:
        self.runner.start()

    async def close(self) -> None:
        await self.runner.close()
        await self.store.close()

    def not_ready(self) -> str | None:
        """Why jobs cannot be taken yet (the store is not open), or None."""
        if self._open.is_set():
            return None
        why = f"unreachable: {self._unreachable}; retrying" if self._unreachable else "connecting"
        return f"job store {self.store.where} {why}"

    def _require_open(self) -> None:
        reason = self.not_ready()
        if reason is not None:
            raise RequestError(503, reason, headers={"retry-after": "1"})

    # Jobs

    def command_spec(self, command: str) -> CommandSpec:
        """The command named ``command``; 404 naming the ones there are."""
        spec = self.service.commands.get(command)
        if spec is None:
            known = ", ".join(self.service.commands) or "none"
            raise RequestError(404, f"command {command!r} does not exist (commands: {known})")
        return spec

    def inputs_of(self, command: str, args: Any) -> Any:
        """A command's inputs, validated (404 for an unknown command, 400 naming bad inputs, like its own route)."""
        spec = self.command_spec(command)
        if spec.inputs is None:
            return args or {}
        try:
            return validate(spec.inputs, args or {}, f"inputs of {command}").model_dump()
        except SpecError as exc:
            raise RequestError(400, str(exc)) from None

    def authorize(self, command: str | None, request: Request, action: str) -> None:
        """Training commands need the admin token (starting or cancelling one); anything else passes."""
        if command is not None and command in self.service.commands and self.service.commands[command].training:
            require_admin(self.admin_token, request.headers.get("authorization"), f"{action} (training)")

    def job_for(self, command: str | None, request: Request, fields: RequestFields) -> Job:
        """A job to submit; a command's inputs are checked now (and again when it runs, maybe on another replica),
        a url's content only when it runs."""
        self.authorize(command, request, "POST /jobs")
        if command is None:
            self.service.check_handler()
        if fields.url is not None:
            self.reader.check(fields.url)
            if command is not None:
                self.command_spec(command)
        elif command is not None:
            self.inputs_of(command, fields.args)
        call = JobRequest.of(command, fields.args, dict(request.headers), fields.url, fields.return_pickled)
        return Job(id=fields.request_id or new_id(), request=call)

    async def submit(self, jobs: list[Job]) -> None:
        self._require_open()
        await self.store.submit(jobs)

    async def execute(self, job: Job) -> Any:
        """Run a job: the handler with an event whose body is the args (or the url's content), or the command with
        its checked outputs; a training command's return value is logged as a Model. The event's headers name the
        job and its attempt, so handlers can make a second run harmless; its ``cancelled`` is set on cancellation."""
        call, service = job.request, self.service
        headers = {**call.headers, JOB_ID_HEADER: job.id, JOB_ATTEMPT_HEADER: str(job.attempts)}
        spec = self.command_spec(call.command) if call.command is not None else None
        data: bytes | None = None  # the url's content, for the handler
        body, args = call.args, call.args
        if call.url is not None:
            fetched = await anyio.to_thread.run_sync(self.reader.read, call.url)
            if spec is None:
                data, body = fetched.data, fetched.body(call.url)
                headers["content-type"] = fetched.media_type
            else:
                args = fetched.inputs_for(spec, call.url)
        event = Event("POST", f"/{call.command or ''}", json_bytes(args) if data is None else data, body, b"", headers)
        try:
            if spec is None:
                return await service.call_handler(event)
            inputs = self.inputs_of(spec.name, args)
            value = await service.call_command(spec.name, inputs, event)
        except asyncio.CancelledError:
            event.cancelled.set()
            raise
        if spec.training:
            parameters = validate(spec.inputs, args or {}).model_dump(mode="json") if spec.inputs else {}
            return await log_trained_model(service, spec, value, parameters, job.id)
        if spec.outputs is None:
            return value
        try:
            return validate(spec.outputs, value, f"outputs of {spec.name}").model_dump(mode="json")
        except SpecError as exc:  # the command's fault, not the caller's: a 500, not a 400
            raise ResultError(f"the command's result does not match its declared outputs: {exc}") from None

    # Routes

    def install(self, app: FastAPI, require_ready: Callable[[], None]) -> None:
        """Add the ``/jobs`` routes; submitting also needs ``require_ready`` (the service initialised)."""
        store = self.store

        @app.post("/jobs", tags=["jobs"], status_code=202, summary="Submit an async request; poll GET /jobs/{id}")
        async def submit(job: JobSubmission, request: Request) -> dict[str, Any]:
            require_ready()
            created = self.job_for(job.command, request, job)
            await self.submit([created])
            return created.view()

        @app.post("/jobs/batch", tags=["jobs"], status_code=202, summary="Submit several requests, all or none")
        async def submit_batch(batch: BatchRequest, request: Request) -> dict[str, Any]:
            require_ready()
            created = [self.job_for(batch.command, request, item) for item in batch.requests]
            await self.submit(created)
            return {"jobs": [job.view() for job in created]}

        @app.get("/jobs/{job_id}", tags=["jobs"], summary="Status of a job")
        async def job_status(job_id: str, wait: WaitSeconds = 0.0) -> dict[str, Any]:
            self._require_open()
            return (await store.wait(job_id, wait)).view()

        @app.get("/jobs/{job_id}/result", tags=["jobs"], summary="Result of a job (202 while it is unfinished)")
        async def job_result(job_id: str, wait: WaitSeconds = 0.0) -> Response:
            self._require_open()
            job = await store.wait(job_id, wait)
            return Response(
                json_bytes(job.view(with_result=True)),
                status_code=200 if job.is_finished else 202,
                media_type="application/json",
            )

        @app.delete("/jobs/{job_id}", tags=["jobs"], summary="Cancel a queued or running job")
        async def cancel(job_id: str, request: Request) -> dict[str, Any]:
            self._require_open()
            self.authorize((await store.get(job_id)).request.command, request, "DELETE /jobs/{id}")
            return (await store.cancel(job_id)).view()
