"""SyncEndpoint and AsyncEndpoint against a served function."""

from __future__ import annotations

import asyncio

import pytest

from digitalhub_runtime_python.serving import AsyncEndpoint, EndpointRequest, EndpointResponse, SyncEndpoint
from digitalhub_runtime_python.serving.clients import StreamError

pytestmark = pytest.mark.integration


def test_sync_endpoint_predicts_and_reports_failures(served) -> None:
    with SyncEndpoint(served.endpoint) as endpoint:
        assert endpoint.predict({"x": 2}).value["y"] == 5.0
        failed = endpoint.predict(EndpointRequest(args="boom", request_id="r1"))
        assert failed.status == "FAILURE" and failed.error["code"] == 500 and failed.request_id == "r1"
    with SyncEndpoint(served.endpoint, command="add") as endpoint:
        assert endpoint.predict(EndpointRequest(args={"a": 1, "b": 1})) == EndpointResponse(
            "SUCCESS", result='{"sum":2}'
        )
        assert endpoint.predict({"a": "x"}).error["code"] == 400


def test_sync_endpoint_streams(served) -> None:
    with SyncEndpoint(served.endpoint, command="count") as endpoint:
        assert list(endpoint.stream({"n": 3})) == [{"i": 0}, {"i": 1}, {"i": 2}]
        items = []
        with pytest.raises(StreamError) as failure:
            for item in endpoint.stream({"n": 4, "fail_at": 1}):
                items.append(item)
        assert items == [{"i": 0}] and failure.value.error["code"] == 500
    with SyncEndpoint(served.endpoint, command="count") as endpoint, pytest.raises(StreamError, match="n:"):
        list(endpoint.stream({}))


def test_async_endpoint_batch_wait_poll_and_await(served) -> None:
    with AsyncEndpoint(served.endpoint, command="add") as endpoint:
        batch = endpoint.predict_batch(
            [EndpointRequest(args={"a": i, "b": 10}, request_id=f"add-{i}") for i in range(3)]
        )
        assert batch.request_ids == ["add-0", "add-1", "add-2"]
        responses = batch.wait(timeout=10)
        assert {rid: r.value["sum"] for rid, r in responses.items()} == {"add-0": 10, "add-1": 11, "add-2": 12}
        assert batch.is_done() and all(r.status == "SUCCESS" for r in batch.get_responses().values())

        later = endpoint.predict_batch([EndpointRequest(args={"a": 5}), EndpointRequest(args={"a": 6})])
        responses = asyncio.run(later.wait_async(timeout=10))
        assert sorted(r.value["sum"] for r in responses.values()) == [5, 6]

        async def awaited() -> dict[str, EndpointResponse]:
            return await endpoint.predict(EndpointRequest(args={"a": 7}, request_id="await-7"))

        assert asyncio.run(awaited())["await-7"].value == {"sum": 7}
        with pytest.raises(ValueError, match="repeated"):
            endpoint.predict_batch([EndpointRequest(args={"a": 1}, request_id="same")] * 2)


def test_async_endpoint_failures_and_cancel(served) -> None:
    with AsyncEndpoint(served.endpoint) as endpoint:
        failed = endpoint.predict("boom").wait(timeout=10)
        [response] = failed.values()
        assert response.status == "FAILURE" and response.error["code"] == 500
    with SyncEndpoint(served.endpoint, command="rearm") as rearm:
        rearm.predict({})
    with AsyncEndpoint(served.endpoint, command="hold") as endpoint:
        batch = endpoint.predict(EndpointRequest(request_id="hold-cancel"))
        assert not batch.is_done()
        assert batch.get_responses()["hold-cancel"].status == "PENDING"
        batch.cancel()
        assert batch.is_done(poll=False)
        assert batch.get_responses()["hold-cancel"].error["details"] == "the job was cancelled"
