"""The async job manager on its own event loop."""

from __future__ import annotations

import asyncio

import pytest

from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.jobs import JobManager, JobStatus


def run(coroutine):
    return asyncio.run(coroutine)


def test_jobs_run_at_most_workers_at_once_and_keep_results() -> None:
    async def scenario() -> None:
        manager = JobManager(workers=1, ttl=60, max_jobs=10, debug=False)
        gate, started = asyncio.Event(), asyncio.Event()

        async def blocked() -> str:
            started.set()
            await gate.wait()
            return "first"

        async def second() -> list[int]:
            return [1, 2]

        first, queued = manager.submit([("a", blocked), (None, second)])
        await started.wait()  # the first job holds the only worker
        assert first.status == JobStatus.RUNNING and queued.status == JobStatus.PENDING
        gate.set()
        assert (await manager.wait(queued.id, 5)).view(with_result=True)["result"] == [1, 2]
        assert manager.get("a").result == "first"

    run(scenario())


def test_ids_are_checked_before_anything_runs() -> None:
    async def scenario() -> None:
        manager = JobManager(workers=2, ttl=60, max_jobs=2, debug=False)

        async def work() -> int:
            return 1

        with pytest.raises(RequestError, match="repeated") as repeated:
            manager.submit([("x", work), ("x", work)])
        assert repeated.value.code == 400
        manager.submit([("x", work)])
        with pytest.raises(RequestError, match="already in use"):
            manager.submit([("x", work)])
        with pytest.raises(RequestError) as full:
            manager.submit([("y", work), ("z", work)])
        assert full.value.code == 429
        with pytest.raises(RequestError) as missing:
            manager.get("nope")
        assert missing.value.code == 404
        await manager.close()

    run(scenario())


def test_failures_cancel_and_expiry() -> None:
    async def scenario() -> None:
        manager = JobManager(workers=2, ttl=60, max_jobs=10, debug=False)

        async def broken() -> None:
            raise KeyError("hidden")

        async def forever() -> None:
            await asyncio.Event().wait()

        failed, endless = manager.submit([("f", broken), ("e", forever)])
        await manager.wait("f", 5)
        assert failed.status == JobStatus.FAILURE and "hidden" not in failed.error["details"]
        manager.cancel("e")
        await manager.wait("e", 5)
        assert endless.status == JobStatus.CANCELLED and endless.finished is not None
        with pytest.raises(RequestError, match="already finished"):
            manager.cancel("e")
        failed.finished -= 61  # finished longer ago than the ttl: the next submit forgets it
        manager.submit([("new", broken)])
        with pytest.raises(RequestError):
            manager.get("f")
        await manager.close()

    run(scenario())
