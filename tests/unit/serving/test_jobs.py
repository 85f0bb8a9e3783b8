"""Async jobs on one event loop: the memory store, the runner that works from it, and large results."""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.jobs.memory import MemoryJobStore
from digitalhub_runtime_python.serving.jobs.records import Job, JobRequest, JobStatus
from digitalhub_runtime_python.serving.jobs.results import ResultStoreError, ResultWriter
from digitalhub_runtime_python.serving.jobs.runner import JobRunner
from digitalhub_runtime_python.stores.files import LocalFiles

Work = Callable[[], Awaitable[Any]]


def job(job_id: str, command: str | None = None) -> Job:
    return Job(id=job_id, request=JobRequest.of(command, None, {}))


def no_files() -> LocalFiles:
    raise AssertionError("small results stay in the store")


class Harness:
    """A memory store and a runner whose jobs run the coroutine function registered under the job's command."""

    def __init__(self, workers: int = 2, max_jobs: int = 10, results: ResultWriter | None = None):
        self.store = MemoryJobStore(ttl=60, max_jobs=max_jobs)
        self.work: dict[str | None, Work] = {}
        self.runner = JobRunner(
            self.store,
            lambda job: self.work[job.request.command](),
            results or ResultWriter(0, no_files, "jobs", 60),
            workers=workers,
            lease=1.0,
            debug=False,
        )

    async def submit(self, *jobs: Job) -> None:
        await self.store.submit(list(jobs))


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_jobs_run_at_most_workers_at_once_and_keep_results() -> None:
    async def scenario() -> None:
        h = Harness(workers=1)
        gate, started = asyncio.Event(), asyncio.Event()

        async def blocked() -> str:
            started.set()
            await gate.wait()
            return "first"

        async def stream() -> Any:
            async def items() -> Any:
                yield 1
                yield 2

            return items()

        h.work.update(blocked=blocked, stream=stream)
        h.runner.start()
        await h.submit(job("a", "blocked"), job("b", "stream"))
        await started.wait()  # the first job holds the only worker
        assert (await h.store.get("a")).status == JobStatus.RUNNING
        assert (await h.store.get("b")).status == JobStatus.PENDING
        gate.set()
        assert (await h.store.wait("b", 5)).view(with_result=True)["result"] == [1, 2]
        first = await h.store.get("a")
        assert first.result == "first" and first.attempts == 1
        await h.runner.close()

    run(scenario)


def test_ids_are_checked_before_anything_runs() -> None:
    async def scenario() -> None:
        h = Harness(max_jobs=2)
        with pytest.raises(RequestError, match="repeated") as repeated:
            await h.submit(job("x"), job("x"))
        assert repeated.value.code == 400
        await h.submit(job("x"))
        with pytest.raises(RequestError, match="already in use"):
            await h.submit(job("x"))
        with pytest.raises(RequestError) as full:
            await h.submit(job("y"), job("z"))
        assert full.value.code == 429
        with pytest.raises(RequestError) as missing:
            await h.store.get("y")
        assert missing.value.code == 404

    run(scenario)


def test_failures_cancel_and_expiry() -> None:
    async def scenario() -> None:
        h = Harness()
        started = asyncio.Event()

        async def broken() -> None:
            raise KeyError("hidden")

        async def forever() -> None:
            started.set()
            await asyncio.Event().wait()

        async def invalid() -> None:
            raise RequestError(422, "inputs of add: a: required field is missing")

        h.work.update(broken=broken, forever=forever, invalid=invalid)
        h.runner.start()
        await h.submit(job("f", "broken"), job("e", "forever"), job("i", "invalid"))
        failed = await h.store.wait("f", 5)
        assert failed.status == JobStatus.FAILURE and "hidden" not in failed.view()["error"]["details"]
        assert (await h.store.wait("i", 5)).view()["error"]["code"] == 422
        await started.wait()
        assert (await h.store.cancel("e")).status == JobStatus.CANCELLED
        while h.runner.in_hand:  # the running task stops (the scenario's timeout fails the test otherwise)
            await asyncio.sleep(0.01)
        with pytest.raises(RequestError, match="already finished"):
            await h.store.cancel("e")
        failed.finished = (failed.finished or 0) - 61  # finished longer ago than the ttl: the next submit forgets it
        await h.submit(job("new", "broken"))
        with pytest.raises(RequestError):
            await h.store.get("f")
        await h.runner.close()

    run(scenario)


def test_closing_gives_jobs_in_hand_back_and_stops_claiming() -> None:
    async def scenario() -> None:
        h = Harness(workers=1)
        started = asyncio.Event()

        async def forever() -> None:
            started.set()
            await asyncio.Event().wait()

        h.work["forever"] = forever
        h.runner.start()
        await h.submit(job("held", "forever"), job("queued", "forever"))
        await started.wait()
        await h.runner.close()
        assert (await h.store.get("held")).status == JobStatus.PENDING  # given back, its start not counted
        assert (await h.store.get("held")).attempts == 0
        assert (await h.store.get("queued")).status == JobStatus.PENDING

    run(scenario)


def test_large_results_go_to_the_artifact_store(tmp_path: Path) -> None:
    async def scenario() -> None:
        h = Harness(results=ResultWriter(100, lambda: LocalFiles(tmp_path), "jobs/run1", 60))

        async def big() -> dict[str, str]:
            return {"text": "x" * 200}

        async def small() -> dict[str, str]:
            return {"text": "x"}

        h.work.update(big=big, small=small)
        h.runner.start()
        await h.submit(job("big", "big"), job("small", "small"))
        stored = (await h.store.wait("big", 5)).view(with_result=True)
        assert stored["status"] == "SUCCESS" and "result" not in stored
        path = Path(urlparse(stored["result_url"]).path)
        assert path == tmp_path / "jobs" / "run1" / "big.json" and json.loads(path.read_text()) == {"text": "x" * 200}
        assert (await h.store.wait("small", 5)).view(with_result=True)["result"] == {"text": "x"}
        await h.runner.close()

    run(scenario)


def test_a_large_result_without_an_artifact_store_fails_with_the_fix() -> None:
    async def scenario() -> None:
        def unavailable() -> LocalFiles:
            raise SpecError("project", [("spec.artifact_store", "set artifact_store to s3://<bucket>[/<prefix>]")])

        h = Harness(results=ResultWriter(10, unavailable, "jobs/run1", 60))

        async def big() -> str:
            return "y" * 100

        h.work["big"] = big
        h.runner.start()
        await h.submit(job("big", "big"))
        error = (await h.store.wait("big", 5)).view()["error"]
        assert "DIGITALHUB_SERVE_JOB_RESULT_LIMIT" in error["details"] and "artifact_store" in error["details"]
        await h.runner.close()

    run(scenario)


def test_pickled_results_go_to_the_artifact_store_whatever_their_size(tmp_path: Path) -> None:
    async def scenario() -> None:
        writer = ResultWriter(0, lambda: LocalFiles(tmp_path), "jobs/run1", 60)
        outcome = await writer.outcome("p1", {1, 2}, pickled=True)
        path = Path(urlparse(outcome.result_url or "").path)
        assert path == tmp_path / "jobs" / "run1" / "p1.pkl" and pickle.loads(path.read_bytes()) == {1, 2}
        with pytest.raises(ResultStoreError, match="cannot be pickled"):
            await writer.outcome("p2", lambda: None, pickled=True)

    run(scenario)


def test_a_job_request_keeps_its_url_and_pickling_through_a_store_document() -> None:
    request = JobRequest.of("add", None, {"authorization": "Bearer x"}, "s3://b/k.json", True)
    assert JobRequest.from_document(json.loads(json.dumps(request.document()))) == request
    assert request.headers == {}  # credentials are never stored
    legacy = {"command": None, "args": {"x": 1}, "headers": {}}  # a record stored before urls existed
    assert JobRequest.from_document(legacy) == JobRequest(None, {"x": 1})
