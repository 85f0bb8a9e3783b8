"""The job workers of one server process: claim jobs from the store, run them, keep their leases, store outcomes,
and drain on shutdown (stop claiming, let jobs in hand finish until the drain deadline, give the rest back)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from digitalhub_runtime_python.serving.errors import RequestError, describe_failure, error_body, new_error_id
from digitalhub_runtime_python.serving.jobs.records import Delivery, Job, JobStatus, Outcome
from digitalhub_runtime_python.serving.jobs.results import ResultStoreError, ResultWriter
from digitalhub_runtime_python.serving.jobs.store import JobStore, JobStoreUnavailable

logger = logging.getLogger("digitalhub.serving.jobs")

Execute = Callable[[Job], Awaitable[Any]]
RETRY_FIRST, RETRY_MOST = 0.05, 1.0  # seconds between attempts to reach an unreachable store


@dataclass
class _InHand:
    delivery: Delivery
    task: asyncio.Task[Outcome]
    give_back: bool = False  # set when the server shuts down before the job finished


class JobRunner:
    """Runs ``workers`` jobs at once with ``execute``; ``lease`` is the store's lease on a claimed job, renewed
    every third of it while the job runs."""

    def __init__(
        self, store: JobStore, execute: Execute, results: ResultWriter, *, workers: int, lease: float, debug: bool
    ):
        self.store, self.execute, self.results = store, execute, results
        self.workers, self.lease, self.debug = workers, lease, debug
        self.claim_wait = min(1.0, lease / 3)  # a claim returns this often: how soon a stopping worker notices
        self._tasks: list[asyncio.Task[None]] = []
        self._idle: set[asyncio.Task[Any]] = set()
        self._in_hand: dict[str, _InHand] = {}
        self._stopping = False
        self._deadline = 0.0
        self._outage: str | None = None

    def start(self) -> None:
        self.store.on_cancel(self._cancelled)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._work(), name=f"job-worker-{n}") for n in range(self.workers)]

    def stop_taking(self, deadline: float) -> None:
        """Claim no more jobs; jobs in hand may run until ``deadline`` (``time.monotonic()``). Safe to call from a
        signal handler."""
        if not self._stopping:
            self._stopping, self._deadline = True, deadline

    async def close(self) -> None:
        """Drain: with a shared store, jobs in hand get until the deadline to finish; then the rest go back to the
        store (another replica runs them; the memory store's die with the process)."""
        self.stop_taking(time.monotonic())
        running = [hand.task for hand in self._in_hand.values()]
        if self.store.shared and running:
            await asyncio.wait(running, timeout=max(0.0, self._deadline - time.monotonic()))
        for hand in list(self._in_hand.values()):
            hand.give_back = True
            hand.task.cancel()
        if not self.store.shared:  # claims from memory can be interrupted without losing a job
            for task in self._idle:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def in_hand(self) -> int:
        return len(self._in_hand)

    # Workers

    async def _work(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        delay = RETRY_FIRST
        while not self._stopping:
            self._idle.add(me)
            try:
                delivery = await self.store.claim(self.claim_wait)
            except JobStoreUnavailable as exc:
                self._unreachable(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
                continue
            except Exception:  # a bug must not leave the queue without workers
                logger.exception("job worker: claiming failed (retrying)")
                await asyncio.sleep(RETRY_MOST)
                continue
            finally:
                self._idle.discard(me)
            self._reachable()
            delay = RETRY_FIRST
            if delivery is None:
                continue
            if self._stopping:
                await self._give_back(delivery)
                return
            try:
                await self._run(delivery)
            except Exception:  # the job's lease lapses and another worker runs it again
                logger.exception("job %s: running it failed in the worker", delivery.job.id)

    async def _run(self, delivery: Delivery) -> None:
        job = delivery.job
        hand = _InHand(delivery, asyncio.get_running_loop().create_task(self._outcome(job), name=f"job-{job.id}"))
        self._in_hand[job.id] = hand
        renewer = asyncio.get_running_loop().create_task(self._renew(hand)) if self.store.shared else None
        try:
            await asyncio.wait([hand.task])
        finally:
            if renewer is not None:
                renewer.cancel()
            del self._in_hand[job.id]
        if not hand.task.cancelled():
            await self._store(delivery, hand.task.result())
        elif hand.give_back:
            await self._give_back(delivery)
        # else cancelled by a user (the store has it CANCELLED) or taken over by another worker: nothing to store

    async def _outcome(self, job: Job) -> Outcome:
        try:
            return await self.results.outcome(job.id, await self.execute(job), job.request.return_pickled)
        except RequestError as exc:  # e.g. its command no longer exists after an update
            return Outcome(JobStatus.FAILURE, error=error_body(exc.code, str(exc)))
        except ResultStoreError as exc:
            logger.error("job %s: %s", job.id, exc)
            return Outcome(JobStatus.FAILURE, error=error_body(500, str(exc)))
        except Exception as exc:
            error_id = new_error_id()
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            details, extra = describe_failure(cause, error_id, self.debug)
            return Outcome(JobStatus.FAILURE, error=error_body(500, details, error_id, **extra))

    async def _renew(self, hand: _InHand) -> None:
        """Keep the lease while the job runs; stop the job once it is no longer this worker's."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                still_mine = await self.store.renew(hand.delivery)
            except JobStoreUnavailable as exc:
                self._unreachable(exc)
                continue
            except Exception:
                logger.exception("job %s: renewing its lease failed (retrying)", hand.delivery.job.id)
                continue
            if not still_mine:
                logger.info("job %s: cancelled, or taken over by another worker: stopping here", hand.delivery.job.id)
                hand.task.cancel()
                return

    async def _store(self, delivery: Delivery, outcome: Outcome) -> None:
        """Store the outcome, retrying while the store is unreachable (until the drain deadline once stopping)."""
        delay = RETRY_FIRST
        while True:
            try:
                await self.store.complete(delivery, outcome)
                return
            except JobStoreUnavailable as exc:
                self._unreachable(exc)
                if self._stopping and time.monotonic() >= self._deadline:
                    logger.warning(
                        "job %s: outcome not stored, the job store is unreachable; it runs again once its lease lapses",
                        delivery.job.id,
                    )
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)

    async def _give_back(self, delivery: Delivery) -> None:
        try:
            await self.store.release(delivery)
            logger.info("job %s: given back to the queue unfinished (shutting down)", delivery.job.id)
        except JobStoreUnavailable:
            logger.warning(
                "job %s: not given back, the job store is unreachable; it runs again once its lease lapses",
                delivery.job.id,
            )

    def _cancelled(self, job_id: str) -> None:
        hand = self._in_hand.get(job_id)
        if hand is not None:
            hand.task.cancel()

    def _unreachable(self, exc: JobStoreUnavailable) -> None:
        if self._outage != exc.why:
            self._outage = exc.why
            logger.warning("job store %s unreachable: %s (retrying)", self.store.where, exc.why)

    def _reachable(self) -> None:
        if self._outage is not None:
            self._outage = None
            logger.info("job store %s reachable again", self.store.where)
