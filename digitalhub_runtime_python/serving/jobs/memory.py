"""The embedded job store: this process's memory. One replica, and a restart forgets every job."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from digitalhub_runtime_python.serving.jobs.records import Delivery, Job, JobStatus, Outcome
from digitalhub_runtime_python.serving.jobs.store import (
    JobStore,
    already_finished,
    check_batch,
    ids_in_use,
    store_full,
    unknown_job,
)


class MemoryJobStore(JobStore):
    """Keeps at most ``max_jobs`` jobs (queued, running and finished); forgets finished ones after ``ttl`` s."""

    shared = False
    where = "memory"

    def __init__(self, ttl: float, max_jobs: int):
        self.ttl, self.max_jobs = ttl, max_jobs
        self._jobs: dict[str, Job] = {}
        self._done: dict[str, asyncio.Event] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._cancel_callbacks: list[Callable[[str], None]] = []

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def submit(self, jobs: list[Job]) -> None:
        check_batch(jobs)
        self._evict()
        taken = [job.id for job in jobs if job.id in self._jobs]
        if taken:
            raise ids_in_use(taken)
        if len(self._jobs) + len(jobs) > self.max_jobs:
            raise store_full(len(self._jobs), self.max_jobs, "kept")
        for job in jobs:
            self._jobs[job.id], self._done[job.id] = job, asyncio.Event()
            self._queue.put_nowait(job.id)

    async def get(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise unknown_job(job_id, self.ttl) from None

    async def wait(self, job_id: str, timeout: float) -> Job:
        job = await self.get(job_id)
        if timeout > 0 and not job.is_finished:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done[job_id].wait(), timeout)
        return job

    async def cancel(self, job_id: str) -> Job:
        job = await self.get(job_id)
        if job.is_finished:
            raise already_finished(job)
        self._finish(job, JobStatus.CANCELLED)
        for callback in self._cancel_callbacks:
            callback(job_id)
        return job

    async def claim(self, timeout: float) -> Delivery | None:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                job_id = await asyncio.wait_for(self._queue.get(), remaining)
            except TimeoutError:
                return None
            job = self._jobs.get(job_id)
            if job is not None and job.status == JobStatus.PENDING:  # cancelled or evicted while queued: skip
                job.status, job.started, job.attempts = JobStatus.RUNNING, time.time(), job.attempts + 1
                return Delivery(job, job_id)
        return None

    async def renew(self, delivery: Delivery) -> bool:
        return delivery.job.status == JobStatus.RUNNING

    async def complete(self, delivery: Delivery, outcome: Outcome) -> None:
        job = delivery.job
        if job.is_finished:
            return
        job.result, job.result_url, job.error = outcome.result, outcome.result_url, outcome.error
        self._finish(job, outcome.status)

    async def release(self, delivery: Delivery) -> None:
        job = delivery.job
        if job.status == JobStatus.RUNNING:
            job.status, job.started, job.attempts = JobStatus.PENDING, None, job.attempts - 1
            self._queue.put_nowait(job.id)

    def on_cancel(self, callback: Callable[[str], None]) -> None:
        self._cancel_callbacks.append(callback)

    def _finish(self, job: Job, status: JobStatus) -> None:
        job.status, job.finished = status, time.time()
        self._done[job.id].set()

    def _evict(self) -> None:
        limit = time.time() - self.ttl
        for job_id in [j.id for j in self._jobs.values() if j.finished is not None and j.finished < limit]:
            del self._jobs[job_id], self._done[job_id]
