"""The Redis job store on its own, against a real redis-server: several store objects on one namespace act as the
processes of several replicas."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.jobs.records import Job, JobRequest, JobStatus, Outcome
from digitalhub_runtime_python.serving.jobs.redis_store import RedisJobStore
from digitalhub_runtime_python.serving.jobs.store import JobStoreUnavailable
from tests.servers.redis import PASSWORD, RedisServer

pytestmark = pytest.mark.integration
_namespaces = itertools.count()
LEASE = 0.3  # seconds: short, so lapsed leases show quickly


def job(job_id: str, args: object = None) -> Job:
    return Job(id=job_id, request=JobRequest.of(None, args, {"authorization": "Bearer secret", "x-test": "kept"}))


@asynccontextmanager
async def replicas(server: RedisServer, count: int = 2, **options: Any) -> AsyncIterator[list[RedisJobStore]]:
    """``count`` open stores sharing one fresh namespace, as ``count`` replicas of one serve run would."""
    namespace = f"test-{next(_namespaces)}"
    settings: dict = {"ttl": 60, "max_jobs": 100, "lease": LEASE, "max_attempts": 2, **options}
    stores = [RedisJobStore(server.url, password=PASSWORD, namespace=namespace, **settings) for _ in range(count)]
    for store in stores:
        await store.open()
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


def scenario(server: RedisServer, body: Callable[[list[RedisJobStore]], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        async with replicas(server, **options) as stores:
            await asyncio.wait_for(body(stores), 20)

    asyncio.run(main())


def test_any_replica_reads_and_long_polls_what_another_ran(redis_server: RedisServer) -> None:
    async def body(stores: list[RedisJobStore]) -> None:
        a, b = stores
        await a.submit([job("j1", {"x": 1})])
        stored = await b.get("j1")
        assert stored.status == JobStatus.PENDING and stored.request.args == {"x": 1}
        assert stored.request.headers == {"x-test": "kept"}  # credentials are not stored
        poll = asyncio.ensure_future(a.wait("j1", 60))  # far longer than the test may take: completion wakes it
        delivery = await b.claim(1)
        assert delivery is not None and delivery.job.status == JobStatus.RUNNING and delivery.job.attempts == 1
        await asyncio.sleep(0.05)
        assert not poll.done()
        await b.complete(delivery, Outcome(JobStatus.SUCCESS, result={"y": 2}))
        finished = await poll
        assert finished.status == JobStatus.SUCCESS and finished.result == {"y": 2}
        assert await a.claim(0.05) is None  # acknowledged: nothing left to deliver
        with pytest.raises(RequestError) as unknown:
            await a.get("never")
        assert unknown.value.code == 404

    scenario(redis_server, body)


def test_batches_are_all_or_nothing(redis_server: RedisServer) -> None:
    async def body(stores: list[RedisJobStore]) -> None:
        a, b = stores
        await a.submit([job("x")])
        with pytest.raises(RequestError) as taken:
            await b.submit([job("y"), job("x")])
        assert taken.value.code == 409 and "x" in str(taken.value)
        with pytest.raises(RequestError) as repeated:
            await b.submit([job("z"), job("z")])
        assert repeated.value.code == 400
        with pytest.raises(RequestError) as full:
            await b.submit([job("w1"), job("w2")])  # one unfinished job already, at most two
        assert full.value.code == 429 and "queued or running" in str(full.value)
        for refused in ("y", "z", "w1"):
            with pytest.raises(RequestError):
                await a.get(refused)

    scenario(redis_server, body, max_jobs=2)


def test_a_lapsed_lease_runs_the_job_again_elsewhere_and_the_first_worker_stops(redis_server: RedisServer) -> None:
    async def body(stores: list[RedisJobStore]) -> None:
        a, b = stores
        await a.submit([job("slow")])
        first = await a.claim(1)
        assert first is not None and await a.renew(first)
        second = None
        while second is None:  # a stops renewing, as if its process died; b takes over once the lease lapsed
            second = await b.claim(LEASE)
        assert second.job.id == "slow" and second.job.attempts == 2
        assert not await a.renew(first)  # a learns it is no longer its job
        await b.complete(second, Outcome(JobStatus.SUCCESS, result=1))
        await a.complete(first, Outcome(JobStatus.SUCCESS, result=0))  # too late: the first outcome stays
        assert (await a.get("slow")).result == 1

    scenario(redis_server, body)


def test_a_job_whose_worker_keeps_dying_ends_failure_with_the_reason(redis_server: RedisServer) -> None:
    async def body(stores: list[RedisJobStore]) -> None:
        a, b = stores
        await a.submit([job("poison")])
        for store in (a, b):  # started twice (max_attempts), never completed
            delivery = None
            while delivery is None:
                delivery = await store.claim(LEASE)
        while await a.claim(LEASE) is None and not (await a.get("poison")).is_finished:
            pass
        failed = await b.wait("poison", 5)
        assert failed.status == JobStatus.FAILURE and failed.attempts == 2 and failed.error is not None
        assert "started 2 times" in failed.error["details"] and b.worker in failed.error["details"]

    scenario(redis_server, body)


def test_cancel_reaches_the_worker_of_another_replica(redis_server: RedisServer) -> None:
    async def body(stores: list[RedisJobStore]) -> None:
        a, b = stores
        heard: asyncio.Queue[str] = asyncio.Queue()
        a.on_cancel(heard.put_nowait)
        await b.submit([job("long"), job("queued")])
        delivery = await a.claim(1)
        assert delivery is not None and delivery.job.id == "long"
        cancelled = await b.cancel("long")
        assert cancelled.status == JobStatus.CANCELLED
        assert await asyncio.wait_for(heard.get(), 5) == "long"
        assert not await a.renew(delivery)
        await a.complete(delivery, Outcome(JobStatus.SUCCESS, result="ignored"))
        assert (await b.get("long")).status == JobStatus.CANCELLED
        await a.cancel("queued")  # never delivered once cancelled
        assert await b.claim(0.1) is None
        with pytest.raises(RequestError) as again:
            await b.cancel("long")
        assert again.value.code == 409 and "already finished (CANCELLED)" in str(again.value)

    scenario(redis_server, body)


def test_released_jobs_go_back_to_the_queue_without_counting_an_attempt(redis_server: RedisServer) -> None:
    async def body(stores: list[RedisJobStore]) -> None:
        a, b = stores
        await a.submit([job("handed")])
        delivery = await a.claim(1)
        assert delivery is not None
        await a.release(delivery)
        assert (await b.get("handed")).status == JobStatus.PENDING
        again = await b.claim(1)
        assert again is not None and again.job.attempts == 1

    scenario(redis_server, body)


def test_a_wrong_password_or_no_server_says_why(redis_server: RedisServer) -> None:
    async def main() -> None:
        wrong = RedisJobStore(
            redis_server.url, password="wrong", namespace="x", ttl=1, max_jobs=1, lease=1, max_attempts=1
        )
        with pytest.raises(JobStoreUnavailable) as refused:
            await wrong.open()
        assert refused.value.code == 503 and "DIGITALHUB_SERVE_JOB_STORE_PASSWORD" in str(refused.value)
        assert "wrong" not in str(refused.value)
        await wrong.close()
        nowhere = RedisJobStore(
            "redis://127.0.0.1:1/0", password=None, namespace="x", ttl=1, max_jobs=1, lease=1, max_attempts=1
        )
        with pytest.raises(JobStoreUnavailable) as unreachable:
            await nowhere.open()
        assert "redis://127.0.0.1:1/0" in str(unreachable.value) and "connect" in str(unreachable.value).lower()
        await nowhere.close()

    asyncio.run(main())


def test_finished_jobs_expire_after_the_ttl_and_unfinished_ones_do_not(redis_server: RedisServer) -> None:
    async def body(stores: list[RedisJobStore]) -> None:
        a, b = stores
        await a.submit([job("done"), job("waiting")])
        delivery = await b.claim(1)
        assert delivery is not None
        await b.complete(delivery, Outcome(JobStatus.SUCCESS, result=1))
        assert (await a.get("done")).result == 1
        while True:  # gone about a second later (the scenario's timeout fails the test otherwise)
            try:
                await a.get("done")
            except RequestError as gone:
                assert gone.code == 404
                break
            await asyncio.sleep(0.1)
        assert (await a.get("waiting")).status == JobStatus.PENDING

    scenario(redis_server, body, ttl=0.5)
