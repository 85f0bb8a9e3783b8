"""The async-job side of a served app: its job store, its workers, and the ``/jobs`` routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.serving.config import ServeConfig
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.events import Event
from digitalhub_runtime_python.serving.jobs.records import Job, JobRequest
from digitalhub_runtime_python.serving.jobs.results import ResultWriter
from digitalhub_runtime_python.serving.jobs.runner import JobRunner
from digitalhub_runtime_python.serving.jobs.store import JobStoreUnavailable, open_job_store
from digitalhub_runtime_python.serving.responses import json_bytes
from digitalhub_runtime_python.serving.service import Service

logger = logging.getLogger("digitalhub.serving")

RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description="Caller-chosen job id")]
WaitSeconds = Annotated[
    float, Query(ge=0, le=60, description="Long poll: wait up to this many seconds for the job to finish")
]
MAX_BATCH = 1000
JOB_ID_HEADER, JOB_ATTEMPT_HEADER = "x-digitalhub-job-id", "x-digitalhub-job-attempt"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobSubmission(_Strict):
    args: Any = Field(None, description="The request: the handler's event body, or the command's inputs")
    command: str | None = Field(None, description="A command's name; the handler at / when omitted")
    request_id: RequestId | None = None


class BatchItem(_Strict):
    args: Any = None
    request_id: RequestId | None = None


class BatchRequest(_Strict):
    command: str | None = None
    requests: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class AsyncJobs:
    """The job store chosen by the settings, the workers running its jobs through ``service``, and the routes.

    ``open`` connects the store (retrying while it is unreachable, saying why in ``not_ready`` and the log);
    ``start`` starts the workers (once the service is initialised); ``close`` drains them and disconnects."""

    def __init__(self, service: Service, config: ServeConfig):
        self.service = service
        run, project = service.run, service.context.project
        self.store = open_job_store(config, namespace=f"{run.project}:{run.id}")
        results = ResultWriter(
            config.job_result_limit, lambda: project.backend.files(project.entity), f"jobs/{run.id}", config.job_ttl
        )
        self.runner = JobRunner(
            self.store,
            self.execute,
            results,
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

    def inputs_of(self, command: str, args: Any) -> Any:
        """A command's inputs, validated (404 for an unknown command, 422 for bad inputs, like its own route)."""
        spec = self.service.commands.get(command)
        if spec is None:
            known = ", ".join(self.service.commands) or "none"
            raise RequestError(404, f"command {command!r} does not exist (commands: {known})")
        if spec.inputs is None:
            return args or {}
        try:
            return validate(spec.inputs, args or {}, f"inputs of {command}").model_dump()
        except SpecError as exc:
            raise RequestError(422, str(exc)) from None

    def job_for(self, command: str | None, args: Any, request_id: str | None, request: Request) -> Job:
        """A job to submit; a command's inputs are checked now (and again when it runs, maybe on another replica)."""
        if command is not None:
            self.inputs_of(command, args)
        return Job(id=request_id or new_id(), request=JobRequest.of(command, args, dict(request.headers)))

    async def execute(self, job: Job) -> Any:
        """Run a job: the handler with an event whose body is the args, or the command with its checked outputs. The
        event's headers name the job and its attempt, so handlers can make a second run harmless."""
        call, service = job.request, self.service
        headers = {**call.headers, JOB_ID_HEADER: job.id, JOB_ATTEMPT_HEADER: str(job.attempts)}
        event = Event("POST", f"/{call.command or ''}", json_bytes(call.args), call.args, b"", headers)
        if call.command is None:
            return await service.call_handler(event)
        value = await service.call_command(call.command, self.inputs_of(call.command, call.args), event)
        outputs = service.commands[call.command].outputs
        return validate(outputs, value, f"outputs of {call.command}").model_dump(mode="json") if outputs else value

    # Routes

    def install(self, app: FastAPI, require_ready: Callable[[], None]) -> None:
        """Add the ``/jobs`` routes; submitting also needs ``require_ready`` (the service initialised)."""
        store = self.store

        @app.post("/jobs", tags=["jobs"], status_code=202, summary="Submit an async request; poll GET /jobs/{id}")
        async def submit(job: JobSubmission, request: Request) -> dict[str, Any]:
            require_ready()
            self._require_open()
            created = self.job_for(job.command, job.args, job.request_id, request)
            await store.submit([created])
            return created.view()

        @app.post("/jobs/batch", tags=["jobs"], status_code=202, summary="Submit several requests, all or none")
        async def submit_batch(batch: BatchRequest, request: Request) -> dict[str, Any]:
            require_ready()
            self._require_open()
            created = [self.job_for(batch.command, item.args, item.request_id, request) for item in batch.requests]
            await store.submit(created)
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
        async def cancel(job_id: str) -> dict[str, Any]:
            self._require_open()
            return (await store.cancel(job_id)).view()
