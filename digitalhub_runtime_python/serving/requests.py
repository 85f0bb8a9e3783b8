"""``POST /requests``: one request with its options spelled out (args or a url to read them from, the result as
JSON or pickled into the artifact store), answered once done; the synchronous twin of ``POST /jobs``, run by the
same code as a job but in the request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException

from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.serving.errors import HandlerFailure, RequestError
from digitalhub_runtime_python.serving.jobs.results import ResultStoreError, collect
from digitalhub_runtime_python.serving.jobs.submissions import JobSubmission
from digitalhub_runtime_python.serving.responses import json_bytes

if TYPE_CHECKING:
    from digitalhub_runtime_python.serving.jobs.routes import AsyncJobs


def install_requests(app: FastAPI, jobs: AsyncJobs, require_ready: Callable[[], None]) -> None:
    """Add ``POST /requests``."""

    @app.post(
        "/requests",
        tags=["service"],
        summary="Run one request now: args or url in, the result as JSON or pickled (result_url) out",
    )
    async def run_request(submission: JobSubmission, request: Request) -> dict[str, Any]:
        require_ready()
        spec = jobs.command_spec(submission.command) if submission.command is not None else None
        if spec is not None and spec.training:
            raise RequestError(400, f"command {spec.name!r} trains a model: start it with POST /{spec.name}")
        job = jobs.job_for(submission.command, request, submission)
        try:
            value = await jobs.execute(job)
            if submission.return_pickled:  # a caller's request id may repeat: the file name must not
                stored = await jobs.results.pickled(f"{job.id}-{new_id()[:12]}", value)
                return {"request_id": job.id, "status": "SUCCESS", "result_url": stored.result_url}
            result = json.loads(json_bytes(await collect(value)))
        except (RequestError, HTTPException):
            raise
        except ResultStoreError as exc:
            raise RequestError(500, str(exc)) from exc
        except Exception as exc:  # user code failed: a structured 500
            raise HandlerFailure() from exc
        return {"request_id": job.id, "status": "SUCCESS", "result": result}
