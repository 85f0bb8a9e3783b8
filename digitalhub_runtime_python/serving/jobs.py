"""Async request jobs: submit now, poll (or long-poll) for status and result, cancel.

Jobs live in the server's memory: a restart forgets them, and each replica has its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from starlette.concurrency import iterate_in_threadpool

from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.serving.errors import RequestError, describe_failure, error_body, new_error_id
from digitalhub_runtime_python.serving.responses import is_stream, json_bytes

Work = Callable[[], Awaitable[Any]]


class JobStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELLED = "CANCELLED"


FINISHED = frozenset({JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.CANCELLED})


@dataclass(eq=False)
class Job:
    id: str
    status: JobStatus = JobStatus.PENDING
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    def view(self, with_result: bool = False) -> dict[str, Any]:
        """The job as JSON: id, status, times, the error if it failed and, on request, the result."""
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
        }
        if self.error is not None:
            body["error"] = self.error
        if with_result and self.status == JobStatus.SUCCESS:
            body["result"] = self.result
        return body


async def _collect(value: Any) -> Any:
    """A stream's items as a list (sync generators run in a worker thread); other values as they are."""
    if not is_stream(value):
        return value
    if hasattr(value, "__aiter__"):
        return [item async for item in value]
    return [item async for item in iterate_in_threadpool(value)]


class JobManager:
    """Runs up to ``workers`` jobs at once, keeps at most ``max_jobs``, forgets finished ones after ``ttl`` s."""

    def __init__(self, workers: int, ttl: float, max_jobs: int, debug: bool):
        self._slots = asyncio.Semaphore(workers)
        self.ttl, self.max_jobs, self.debug = ttl, max_jobs, debug
        self._jobs: dict[str, Job] = {}

    def submit(self, work: list[tuple[str | None, Work]]) -> list[Job]:
        """Queue one or more jobs; ids are the caller's (unique, not in use) or new. All are checked before any runs."""
        ids = [job_id for job_id, _ in work if job_id is not None]
        repeated = sorted(job_id for job_id, count in Counter(ids).items() if count > 1)
        if repeated:
            raise RequestError(
                400, f"request_id {', '.join(repeated)} repeated in one batch: give each request its own id"
            )
        self._evict()
        taken = sorted(job_id for job_id in ids if job_id in self._jobs)
        if taken:
            raise RequestError(409, f"request_id {', '.join(taken)} already in use: choose new ids")
        if len(self._jobs) + len(work) > self.max_jobs:
            raise RequestError(
                429, f"too many jobs kept ({len(self._jobs)} of {self.max_jobs}): fetch or cancel some, or retry later"
            )
        jobs = []
        for job_id, run in work:
            job = Job(id=job_id or new_id())
            self._jobs[job.id] = job
            job.task = asyncio.get_running_loop().create_task(self._execute(job, run), name=f"job-{job.id}")
            jobs.append(job)
        return jobs

    async def _execute(self, job: Job, work: Work) -> None:
        try:
            async with self._slots:
                job.status, job.started = JobStatus.RUNNING, time.time()
                result = await _collect(await work())
                job.result = json.loads(json_bytes(result))
                job.status = JobStatus.SUCCESS
        except asyncio.CancelledError:
            job.status = JobStatus.CANCELLED
        except Exception as exc:
            error_id = new_error_id()
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            details, extra = describe_failure(cause, error_id, self.debug)
            job.error, job.status = error_body(500, details, error_id, **extra), JobStatus.FAILURE
        finally:
            job.finished = time.time()
            job.done.set()

    def get(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise RequestError(
                404, f"no job {job_id!r}: it never existed, or it finished more than {self.ttl:g} s ago"
            ) from None

    async def wait(self, job_id: str, timeout: float) -> Job:
        """The job once finished, or as it is after ``timeout`` seconds (long polling)."""
        job = self.get(job_id)
        if timeout > 0 and not job.done.is_set():
            try:
                await asyncio.wait_for(job.done.wait(), timeout)
            except TimeoutError:
                pass
        return job

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job. Sync code already running in a worker thread runs on, its result dropped."""
        job = self.get(job_id)
        if job.status in FINISHED:
            raise RequestError(409, f"job {job_id!r} already finished ({job.status.value}): nothing to cancel")
        job.status = JobStatus.CANCELLED
        assert job.task is not None
        job.task.cancel()
        return job

    def _evict(self) -> None:
        limit = time.time() - self.ttl
        for job_id in [j.id for j in self._jobs.values() if j.finished is not None and j.finished < limit]:
            del self._jobs[job_id]

    async def close(self) -> None:
        """Cancel what is still queued or running (at shutdown, once in-flight requests have drained)."""
        tasks = [job.task for job in self._jobs.values() if job.task is not None and not job.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
