"""The job store interface, and the choice of store from the server's settings."""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Callable

from digitalhub_runtime_python.serving.config import ServeConfig
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.jobs.records import Delivery, Job, Outcome


class JobStoreUnavailable(RequestError):
    """The job store cannot be reached; requests that need it answer 503 and may be retried."""

    def __init__(self, where: str, why: str):
        super().__init__(
            503, f"the job store ({where}) is unreachable: {why}; retry shortly", headers={"retry-after": "1"}
        )
        self.why = why


class JobStore(abc.ABC):
    """Where a serve run's async jobs wait, run and keep their outcome; one instance per server process.

    Delivery is at least once: ``claim`` hands a job to one worker under a lease; the worker renews the lease
    while it runs and ``complete`` stores the outcome, then acknowledges. A job whose lease lapses (its worker
    died) is claimed again, up to ``max_attempts`` starts, after which it ends FAILURE with the reason.

    Every method may raise ``JobStoreUnavailable``; the routes' methods raise ``RequestError`` (404 unknown job,
    409 id in use or job finished, 429 full) for the caller.
    """

    #: True when other processes work from the same jobs (replicas): jobs outlive this process.
    shared: bool = False
    #: Where the jobs are, for messages and logs; never carries a password.
    where: str = "memory"

    # Lifecycle

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect; ``JobStoreUnavailable`` says why it cannot (the server retries and stays not ready)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Disconnect; the jobs stay where they are."""

    # For the routes

    @abc.abstractmethod
    async def submit(self, jobs: list[Job]) -> None:
        """Queue all of ``jobs`` or none: 409 if an id is in use, 429 if the store is full."""

    @abc.abstractmethod
    async def get(self, job_id: str) -> Job:
        """The job as it stands; 404 if unknown or expired."""

    @abc.abstractmethod
    async def wait(self, job_id: str, timeout: float) -> Job:
        """The job once finished, or as it stands after ``timeout`` seconds; woken by completion, not polling."""

    @abc.abstractmethod
    async def cancel(self, job_id: str) -> Job:
        """Mark a queued or running job CANCELLED and tell the worker running it; 409 once finished."""

    # For the workers

    @abc.abstractmethod
    async def claim(self, timeout: float) -> Delivery | None:
        """The next job to run, now RUNNING under this worker's lease (lapsed leases first); None after ``timeout``
        seconds without one."""

    @abc.abstractmethod
    async def renew(self, delivery: Delivery) -> bool:
        """Extend the lease; False when the job is no longer this worker's to run (cancelled, or claimed again)."""

    @abc.abstractmethod
    async def complete(self, delivery: Delivery, outcome: Outcome) -> None:
        """Store the outcome with the results' time to live (unless the job finished meanwhile), then acknowledge."""

    @abc.abstractmethod
    async def release(self, delivery: Delivery) -> None:
        """Give an unfinished job back to the queue, for another worker (the server is shutting down)."""

    @abc.abstractmethod
    def on_cancel(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(job_id)`` whenever a job is cancelled, whichever process cancelled it."""


def check_batch(jobs: list[Job]) -> None:
    """400 when a batch repeats an id (checked before any store is asked)."""
    repeated = sorted(job_id for job_id, count in Counter(job.id for job in jobs).items() if count > 1)
    if repeated:
        raise RequestError(400, f"request_id {', '.join(repeated)} repeated in one batch: give each request its own id")


def ids_in_use(job_ids: list[str]) -> RequestError:
    return RequestError(409, f"request_id {', '.join(sorted(job_ids))} already in use: choose new ids")


def unknown_job(job_id: str, ttl: float) -> RequestError:
    return RequestError(404, f"no job {job_id!r}: it never existed, or it finished more than {ttl:g} s ago")


def already_finished(job: Job) -> RequestError:
    return RequestError(409, f"job {job.id!r} already finished ({job.status.value}): nothing to cancel")


def store_full(kept: int, limit: int, what: str) -> RequestError:
    return RequestError(429, f"too many jobs {what} ({kept} of {limit}): fetch or cancel some, or retry later")


def open_job_store(config: ServeConfig, namespace: str) -> JobStore:
    """The store ``DIGITALHUB_SERVE_JOB_STORE`` names; ``namespace`` keeps apart the jobs of different serve runs
    sharing one Redis. Not connected yet: call ``open``."""
    if config.job_store == "memory":
        from digitalhub_runtime_python.serving.jobs.memory import MemoryJobStore

        return MemoryJobStore(ttl=config.job_ttl, max_jobs=config.max_jobs)
    from digitalhub_runtime_python.serving.jobs.redis_store import RedisJobStore

    password = config.job_store_password.get_secret_value() if config.job_store_password else None
    return RedisJobStore(
        config.job_store,
        password=password,
        namespace=namespace,
        ttl=config.job_ttl,
        max_jobs=config.max_jobs,
        lease=config.job_visibility_timeout,
        max_attempts=config.job_max_attempts,
    )
