"""The shared job store: Redis, so every replica of a serve run submits to and works from the same jobs.

Layout under ``digitalhub:serve:<namespace>``:

- ``:queue``, a stream with one consumer group: an entry per job waiting or running. ``XREADGROUP`` hands an entry
  to one worker and records it in the group's pending list; the worker renews its lease (``XCLAIM`` resets the
  idle time) while it runs; ``XAUTOCLAIM`` takes over entries idle longer than the lease (their worker died).
  An entry is acknowledged and deleted once its job's outcome is stored, so the stream's length is the number
  of unfinished jobs.
- ``:job:<id>``, a hash per job: its record; given the results' time to live once the job finishes.
- ``:done`` and ``:cancelled``, pub/sub channels carrying job ids: long polls wake on ``:done``, the worker
  running a job stops on ``:cancelled``.

Every change of a record and its entry happens in one Lua script, so replicas never see half of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

from digitalhub_runtime_python.serving.jobs.records import Delivery, Job, JobRequest, JobStatus, Outcome
from digitalhub_runtime_python.serving.jobs.store import (
    JobStore,
    JobStoreUnavailable,
    already_finished,
    check_batch,
    ids_in_use,
    store_full,
    unknown_job,
)

logger = logging.getLogger("digitalhub.serving.jobs")

GROUP = "workers"
READ_RETRY = 3.0  # seconds a read of a known job keeps retrying through a lost connection before answering 503
SOCKET_TIMEOUT = 10.0  # seconds without an answer before Redis counts as unreachable

SUBMIT = """
-- KEYS[1] the queue, KEYS[2..] the jobs' records; ARGV[1] most unfinished jobs, ARGV[2] this submission's token,
-- ARGV[3..] each record as a JSON object of strings.
local taken = {}
for i = 2, #KEYS do
  local token = redis.call('HGET', KEYS[i], 'submission')
  if token == ARGV[2] then return {'ok'} end  -- this very submission, sent again after a lost reply
  if token then taken[#taken + 1] = i - 1 end
end
if #taken > 0 then return {'taken', unpack(taken)} end
local unfinished = redis.call('XLEN', KEYS[1])
if unfinished + #KEYS - 1 > tonumber(ARGV[1]) then return {'full', unfinished} end
for i = 2, #KEYS do
  local record = cjson.decode(ARGV[i + 1])
  record['entry'] = redis.call('XADD', KEYS[1], '*', 'job', record['id'])
  record['submission'] = ARGV[2]
  local flat = {}
  for field, value in pairs(record) do
    flat[#flat + 1] = field
    flat[#flat + 1] = value
  end
  redis.call('HSET', KEYS[i], unpack(flat))
end
return {'ok'}
"""

START = """
-- KEYS[1] the queue, KEYS[2] the job; ARGV group, entry, worker, now, max attempts, ttl, done channel, job id,
-- error id. The record once RUNNING under this worker, or nil when the entry is dropped instead.
local function drop()
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end
local status = redis.call('HGET', KEYS[2], 'status')
if (status ~= 'PENDING' and status ~= 'RUNNING') or redis.call('HGET', KEYS[2], 'entry') ~= ARGV[2] then
  drop()
  return false
end
local attempts = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
if attempts > tonumber(ARGV[5]) then
  local details = 'the job was started ' .. (attempts - 1) .. ' times and each time its server stopped before it '
    .. 'finished (last: ' .. (redis.call('HGET', KEYS[2], 'worker') or 'unknown') .. '): it may crash the server, '
    .. 'e.g. by running out of memory; the server logs say more'
  redis.call('HSET', KEYS[2], 'status', 'FAILURE', 'finished', ARGV[4], 'attempts', attempts - 1,
    'error', cjson.encode({id = ARGV[9], code = 500, details = details}))
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  redis.call('PUBLISH', ARGV[7], ARGV[8])
  drop()
  return false
end
redis.call('HSET', KEYS[2], 'status', 'RUNNING', 'started', ARGV[4], 'worker', ARGV[3])
return redis.call('HGETALL', KEYS[2])
"""

RENEW = """
-- KEYS[1] the queue, KEYS[2] the job; ARGV group, worker, entry. 1 if the lease was extended.
if redis.call('HGET', KEYS[2], 'status') ~= 'RUNNING' or redis.call('HGET', KEYS[2], 'worker') ~= ARGV[2] then
  return 0
end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"""

COMPLETE = """
-- KEYS[1] the queue, KEYS[2] the job; ARGV group, entry, ttl, done channel, job id, then the outcome's fields and
-- values. Stores the outcome unless the job finished meanwhile (cancelled, or completed by another worker).
local status = redis.call('HGET', KEYS[2], 'status')
local stored = 0
if status == 'RUNNING' or status == 'PENDING' then
  redis.call('HSET', KEYS[2], unpack(ARGV, 6))
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  stored = 1
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return stored
"""

RELEASE = """
-- KEYS[1] the queue, KEYS[2] the job; ARGV group, entry, job id, worker. Queues the job again, at the back.
if redis.call('HGET', KEYS[2], 'status') ~= 'RUNNING' or redis.call('HGET', KEYS[2], 'worker') ~= ARGV[4] then
  return 0
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], 'status', 'PENDING', 'entry', redis.call('XADD', KEYS[1], '*', 'job', ARGV[3]))
redis.call('HDEL', KEYS[2], 'started')
redis.call('HINCRBY', KEYS[2], 'attempts', -1)
return 1
"""

CANCEL = """
-- KEYS[1] the queue, KEYS[2] the job; ARGV group, now, ttl, done channel, cancelled channel, job id, token.
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return {'missing'} end
if status == 'CANCELLED' and redis.call('HGET', KEYS[2], 'cancellation') == ARGV[7] then
  return {'ok', redis.call('HGETALL', KEYS[2])}  -- this very cancellation, sent again after a lost reply
end
if status ~= 'PENDING' and status ~= 'RUNNING' then return {'finished', redis.call('HGETALL', KEYS[2])} end
redis.call('HSET', KEYS[2], 'status', 'CANCELLED', 'finished', ARGV[2], 'cancellation', ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[3])
local entry = redis.call('HGET', KEYS[2], 'entry')
redis.call('XACK', KEYS[1], ARGV[1], entry)
redis.call('XDEL', KEYS[1], entry)
redis.call('PUBLISH', ARGV[4], ARGV[6])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {'ok', redis.call('HGETALL', KEYS[2])}
"""


def _record(job: Job) -> dict[str, str]:
    """A new job's hash fields."""
    return {
        "id": job.id,
        "status": job.status.value,
        "created": repr(job.created),
        "attempts": str(job.attempts),
        "request": json.dumps(job.request.document(), separators=(",", ":")),
    }


def _outcome_fields(outcome: Outcome) -> list[str]:
    fields = ["status", outcome.status.value, "finished", repr(time.time())]
    if outcome.result_url is not None:
        fields += ["result_url", outcome.result_url]
    elif outcome.status == "SUCCESS":
        fields += ["result", json.dumps(outcome.result, separators=(",", ":"), ensure_ascii=False)]
    if outcome.error is not None:
        fields += ["error", json.dumps(outcome.error, separators=(",", ":"))]
    return fields


def _optional_float(value: str | None) -> float | None:
    return float(value) if value else None


def _job(fields: dict[str, str] | list[str]) -> Job:
    """A job from its hash (a dict, or the flat list a script returns)."""
    if isinstance(fields, list):
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    request = json.loads(fields["request"])
    return Job(
        id=fields["id"],
        request=JobRequest.from_document(request),
        status=JobStatus(fields["status"]),
        created=float(fields["created"]),
        started=_optional_float(fields.get("started")),
        finished=_optional_float(fields.get("finished")),
        attempts=int(fields.get("attempts", "0")),
        result=json.loads(fields["result"]) if "result" in fields else None,
        result_url=fields.get("result_url"),
        error=json.loads(fields["error"]) if "error" in fields else None,
        worker=fields.get("worker"),
    )


def _why(exc: BaseException) -> str:
    if isinstance(exc, AuthenticationError):
        return f"it refused the credentials ({exc}): check DIGITALHUB_SERVE_JOB_STORE_PASSWORD"
    if isinstance(exc, RedisTimeout):
        return f"no answer within {SOCKET_TIMEOUT:g} s"
    return f"{type(exc).__name__}: {exc}"


class RedisJobStore(JobStore):
    """Jobs in Redis at ``url`` (no password in it: ``password`` comes apart, from a Secret).

    ``lease``: seconds a claimed job stays this worker's without renewal; ``max_attempts``: starts before a job whose
    server keeps dying ends FAILURE; ``max_jobs``: unfinished jobs at most (finished ones expire after ``ttl``)."""

    shared = True

    def __init__(
        self,
        url: str,
        *,
        password: str | None,
        namespace: str,
        ttl: float,
        max_jobs: int,
        lease: float,
        max_attempts: int,
    ):
        self.where = url
        self.ttl, self.max_jobs, self.lease, self.max_attempts = ttl, max_jobs, lease, max_attempts
        self._expire = max(1, math.ceil(ttl))  # whole seconds for EXPIRE (0 would delete at once)
        self._redis = Redis.from_url(
            url,
            password=password,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=SOCKET_TIMEOUT,
            # One quick retry on a fresh connection (pooled ones die with a Redis restart); the scripts are safe to
            # send twice. Longer outages are the callers' to wait out.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
        )
        prefix = f"digitalhub:serve:{namespace}"
        self._queue, self._job_prefix = f"{prefix}:queue", f"{prefix}:job:"
        self._done, self._cancelled = f"{prefix}:done", f"{prefix}:cancelled"
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._scripts = {
            name: self._redis.register_script(source)
            for name, source in (
                ("submit", SUBMIT),
                ("start", START),
                ("renew", RENEW),
                ("complete", COMPLETE),
                ("release", RELEASE),
                ("cancel", CANCEL),
            )
        }
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._next_reclaim = 0.0  # time.monotonic() of the next look for lapsed leases
        self._cancel_callbacks: list[Callable[[str], None]] = []

    @contextlib.asynccontextmanager
    async def _reachable(self) -> AsyncIterator[None]:
        """Redis connection trouble as JobStoreUnavailable (503)."""
        try:
            yield
        except (RedisError, OSError) as exc:
            if isinstance(exc, ResponseError) and not isinstance(exc, AuthenticationError):
                raise  # Redis answered: a bug here, not an outage
            raise JobStoreUnavailable(self.where, _why(exc)) from exc

    def _key(self, job_id: str) -> str:
        return self._job_prefix + job_id

    # Lifecycle

    async def open(self) -> None:
        async with self._reachable():
            await self._redis.ping()
            await self._ensure_group()
            pubsub = self._redis.pubsub()
            await pubsub.subscribe(self._done, self._cancelled)
        self._pubsub = pubsub
        self._listener = asyncio.get_running_loop().create_task(self._listen(pubsub), name="job-store-notifications")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def _ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._queue, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _listen(self, pubsub: PubSub) -> None:
        """Dispatch completions to long polls and cancellations to workers; after a lost connection (messages may
        have been missed meanwhile) every long poll looks again."""
        lost = False
        delay = 0.05
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except (RedisError, OSError) as exc:
                if not lost:
                    logger.warning("job store %s: notifications lost (%s); reconnecting", self.where, _why(exc))
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            if lost:  # pub/sub reconnected and resubscribed
                lost, delay = False, 0.05
                logger.info("job store %s: notifications back", self.where)
                for events in self._waiters.values():
                    for event in events:
                        event.set()
            if message is None:
                continue
            job_id = message["data"]
            if message["channel"] == self._done:
                for event in self._waiters.get(job_id, ()):
                    event.set()
            elif message["channel"] == self._cancelled:
                for callback in self._cancel_callbacks:
                    callback(job_id)

    # For the routes

    async def submit(self, jobs: list[Job]) -> None:
        check_batch(jobs)
        async with self._reachable():
            reply = await self._scripts["submit"](
                keys=[self._queue, *(self._key(job.id) for job in jobs)],
                args=[self.max_jobs, uuid.uuid4().hex, *(json.dumps(_record(job)) for job in jobs)],
            )
        if reply[0] == "taken":
            raise ids_in_use([jobs[index - 1].id for index in reply[1:]])
        if reply[0] == "full":
            raise store_full(int(reply[1]), self.max_jobs, "queued or running")

    async def get(self, job_id: str) -> Job:
        return await self._read(job_id, time.monotonic() + READ_RETRY)

    async def _read(self, job_id: str, deadline: float) -> Job:
        """The job's record, retrying through a lost connection until ``deadline``."""
        delay = 0.05
        while True:
            try:
                async with self._reachable():
                    fields: dict[str, str] = await self._redis.hgetall(self._key(job_id))  # type: ignore[assignment]
                break
            except JobStoreUnavailable:
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        if not fields:
            raise unknown_job(job_id, self.ttl)
        return _job(fields)

    async def wait(self, job_id: str, timeout: float) -> Job:
        deadline = time.monotonic() + timeout
        read_deadline = max(deadline, time.monotonic() + READ_RETRY)
        if timeout <= 0:
            return await self._read(job_id, read_deadline)
        woken = asyncio.Event()  # registered before reading, so a completion in between is not missed
        self._waiters.setdefault(job_id, set()).add(woken)
        try:
            while True:
                woken.clear()
                job = await self._read(job_id, read_deadline)
                remaining = deadline - time.monotonic()
                if job.is_finished or remaining <= 0:
                    return job
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), remaining)
        finally:
            waiters = self._waiters[job_id]
            waiters.discard(woken)
            if not waiters:
                del self._waiters[job_id]

    async def cancel(self, job_id: str) -> Job:
        async with self._reachable():
            reply = await self._scripts["cancel"](
                keys=[self._queue, self._key(job_id)],
                args=[GROUP, repr(time.time()), self._expire, self._done, self._cancelled, job_id, uuid.uuid4().hex],
            )
        if reply[0] == "missing":
            raise unknown_job(job_id, self.ttl)
        job = _job(reply[1])
        if reply[0] == "finished":
            raise already_finished(job)
        return job

    # For the workers

    async def claim(self, timeout: float) -> Delivery | None:
        deadline = time.monotonic() + timeout
        async with self._reachable():
            while True:
                entry = await self._lapsed() if time.monotonic() >= self._next_reclaim else None
                entry = entry or await self._next(deadline)
                if entry is None:
                    return None
                delivery = await self._start(*entry)
                if delivery is not None:
                    return delivery

    async def _lapsed(self) -> tuple[str, dict[str, str]] | None:
        """An entry whose worker has not renewed its lease in time, now this worker's. Looked for every third of
        a lease while there are none (and again at once after finding one)."""
        _, entries, _deleted = await self._redis.xautoclaim(
            self._queue, GROUP, self.worker, min_idle_time=int(self.lease * 1000), start_id="0-0", count=1
        )
        if not entries:
            self._next_reclaim = time.monotonic() + self.lease / 3
        return entries[0] if entries else None

    async def _next(self, deadline: float) -> tuple[str, dict[str, str]] | None:
        """The next new entry, waiting (a blocking read) until ``deadline``."""
        block = int((deadline - time.monotonic()) * 1000)
        if block <= 0:
            return None
        try:
            reply: Any = await self._redis.xreadgroup(GROUP, self.worker, {self._queue: ">"}, count=1, block=block)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            logger.warning("job store %s: the queue was gone (Redis lost its data?); creating it again", self.where)
            await self._ensure_group()
            return None
        return reply[0][1][0] if reply else None

    async def _start(self, entry: str, fields: dict[str, str] | None) -> Delivery | None:
        job_id = (fields or {}).get("job", "")
        record = await self._scripts["start"](
            keys=[self._queue, self._key(job_id)],
            args=[
                GROUP,
                entry,
                self.worker,
                repr(time.time()),
                self.max_attempts,
                self._expire,
                self._done,
                job_id,
                uuid.uuid4().hex,
            ],
        )
        return Delivery(_job(record), entry) if record else None

    async def renew(self, delivery: Delivery) -> bool:
        async with self._reachable():
            return bool(
                await self._scripts["renew"](
                    keys=[self._queue, self._key(delivery.job.id)], args=[GROUP, self.worker, delivery.receipt]
                )
            )

    async def complete(self, delivery: Delivery, outcome: Outcome) -> None:
        job_id = delivery.job.id
        async with self._reachable():
            await self._scripts["complete"](
                keys=[self._queue, self._key(job_id)],
                args=[GROUP, delivery.receipt, self._expire, self._done, job_id, *_outcome_fields(outcome)],
            )

    async def release(self, delivery: Delivery) -> None:
        job_id = delivery.job.id
        async with self._reachable():
            await self._scripts["release"](
                keys=[self._queue, self._key(job_id)], args=[GROUP, delivery.receipt, job_id, self.worker]
            )

    def on_cancel(self, callback: Callable[[str], None]) -> None:
        self._cancel_callbacks.append(callback)
