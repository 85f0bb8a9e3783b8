"""Training commands: ``POST /<command>`` starts a background job (status and cancel under ``/jobs/{id}``) that
ends by logging what the command returned as a Model entity produced by the serve run, ready to deploy."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse

from digitalhub_runtime_python.entities.data import DataObject
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.models.base import Relationship
from digitalhub_runtime_python.serving.commands import CommandSpec
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.jobs.submissions import RequestFields
from digitalhub_runtime_python.serving.service import Service
from digitalhub_runtime_python.serving.signatures import with_inputs_body

if TYPE_CHECKING:
    from digitalhub_runtime_python.serving.jobs.routes import AsyncJobs


async def log_trained_model(
    service: Service, spec: CommandSpec, value: Any, parameters: dict[str, Any], job_id: str
) -> dict[str, Any]:
    """Log ``value`` as the Model ``spec.model_name``: a ``Path`` as its files, a Model the command logged itself
    as it is, anything else pickled; the job's result names it."""
    project, run_key = service.context.project, service.run.key
    model = await anyio.to_thread.run_sync(_log, project, run_key, spec, value, parameters, job_id)
    return {"model": {"key": model.key, "name": model.name, "id": model.id}}


def _log(
    project: Project, run_key: str, spec: CommandSpec, value: Any, parameters: dict[str, Any], job_id: str
) -> DataObject:
    if isinstance(value, DataObject):
        return value
    if value is None:
        raise RequestError(
            500, f"training command {spec.name!r} returned None: return the model, or a Path to its files"
        )
    assert spec.model_name is not None  # set for every training command
    lineage = [Relationship(type="produced_by", dest=run_key)]
    description = f"trained by job {job_id} of {run_key}"
    if isinstance(value, Path):
        return project.log_model(
            spec.model_name, source_path=value, parameters=parameters, relationships=lineage, description=description
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "model.pkl")
        path.write_bytes(pickle.dumps(value))
        return project.log_model(
            spec.model_name, source_path=path, parameters=parameters, relationships=lineage, description=description
        )


def install_training(app: FastAPI, jobs: AsyncJobs, require_ready: Callable[[], None]) -> None:
    """A ``POST /<name>`` route per training command, behind the admin token."""
    for spec in jobs.service.commands.values():
        if spec.training:
            app.add_api_route(
                f"/{spec.name}",
                _training_endpoint(jobs, spec, require_ready),
                methods=["POST"],
                status_code=202,
                tags=["training"],
                summary=spec.description or f"Train {spec.model_name}",
                description=f"Starts a job that logs the Model {spec.model_name!r}; GET or DELETE /jobs/{{id}}. "
                "Needs the admin token.",
                name=f"train_{spec.name}",
                dependencies=[Depends(_authorized(jobs, spec))],
            )


def _authorized(jobs: AsyncJobs, spec: CommandSpec) -> Callable[[Request], None]:
    """A dependency checking the token before the body is validated: strangers learn nothing of the inputs."""

    def check(request: Request) -> None:
        jobs.authorize(spec.name, request, f"POST /{spec.name}")

    return check


def _training_endpoint(jobs: AsyncJobs, spec: CommandSpec, require_ready: Callable[[], None]) -> Callable[..., Any]:
    async def endpoint(request: Request, inputs: Any = None) -> JSONResponse:
        require_ready()
        args = inputs.model_dump(mode="json") if isinstance(inputs, BaseModel) else inputs
        job = jobs.job_for(spec.name, request, RequestFields(args=args))
        await jobs.submit([job])
        return JSONResponse({**job.view(), "status_url": f"/jobs/{job.id}"}, status_code=202)

    return with_inputs_body(endpoint, spec)
