"""Scale Launch parity: requests reading their input from a URL (S3 or http), results pickled into the project's
artifact store (moto S3) and answered as presigned URLs, ``async_request``, ``status`` and ``poll_endpoints``."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import pickle

import httpx
import pytest
from PIL import Image

from digitalhub_runtime_python.s3 import s3_client
from digitalhub_runtime_python.serving import AsyncEndpoint, EndpointRequest, EndpointResponse, SyncEndpoint
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.remote import UrlReader
from tests.servers.static_http import StaticServer

from .conftest import Parity


def put(parity: Parity, key: str, body: bytes, content_type: str = "application/json") -> str:
    s3_client().put_object(Bucket=parity.bucket, Key=key, Body=body, ContentType=content_type)
    return f"s3://{parity.bucket}/{key}"


def unpickled(url: str) -> object:
    assert url.startswith("http://127.0.0.1") and "Signature=" in url  # presigned: no credentials needed
    return pickle.loads(httpx.get(url).content)


def test_predict_batch_with_url_requests_and_pickled_results(parity: Parity) -> None:
    """The seed's own example: ``predict_batch`` of EndpointRequests with urls and ``return_pickled``."""
    urls = [put(parity, f"inputs/x-{i}.json", json.dumps({"x": i}).encode()) for i in range(3)]
    with AsyncEndpoint(parity.run.endpoint, command="double") as endpoint:
        requests = [EndpointRequest(url=url, return_pickled=True, request_id=f"x-{i}") for i, url in enumerate(urls)]
        batch = endpoint.predict_batch(requests)
        responses = batch.wait(timeout=30)
    assert sorted(responses) == ["x-0", "x-1", "x-2"]
    for i in range(3):
        response = responses[f"x-{i}"]
        assert response.status == "SUCCESS" and response.result is None
        assert unpickled(response.result_url) == frozenset({2.0 * i})


def test_a_url_request_without_pickling_answers_json_text(parity: Parity) -> None:
    url = put(parity, "inputs/add.json", b'{"a": 1, "b": 2}')
    with AsyncEndpoint(parity.run.endpoint, command="add") as endpoint:
        [response] = endpoint.predict(EndpointRequest(url=url)).wait(timeout=30).values()
    assert response.result == '{"sum":3}' and response.result_url is None and response.value == {"sum": 3}
    with SyncEndpoint(parity.run.endpoint, command="add") as endpoint:
        assert endpoint.predict(EndpointRequest(url=url, request_id="sync-add")) == EndpointResponse(
            "SUCCESS", result='{"sum":3}', request_id="sync-add"
        )


def test_sync_request_with_a_pickled_result(parity: Parity) -> None:
    with SyncEndpoint(parity.run.endpoint, command="double") as endpoint:
        response = endpoint.predict(EndpointRequest(args={"x": 4}, return_pickled=True))
        assert response.status == "SUCCESS" and unpickled(response.result_url) == frozenset({8.0})
        assert endpoint.predict({"x": 4}).value == [8.0]  # as JSON the set became a list


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format="PNG")
    return out.getvalue()


def test_urls_over_http_feed_the_handler_and_file_and_image_inputs(parity: Parity, static_server: StaticServer):
    (static_server.root / "table.csv").write_text("a,b\n1,2\n3,4\n")
    (static_server.root / "picture.png").write_bytes(_png((10, 20, 30)))
    (static_server.root / "blob.bin").write_bytes(b"\x00" * 100)
    (static_server.root / "body.json").write_text('{"hello": "world"}')
    base = static_server.base_url
    with SyncEndpoint(parity.run.endpoint, command="rows") as endpoint:
        assert endpoint.predict(EndpointRequest(url=f"{base}/table.csv")).value == {"name": "table.csv", "rows": 3}
    with SyncEndpoint(parity.run.endpoint, command="invert") as endpoint:
        picture = endpoint.predict(EndpointRequest(url=f"{base}/picture.png")).value["picture"]
    inverted = Image.open(io.BytesIO(base64.b64decode(picture.partition(",")[2])))
    assert inverted.getpixel((0, 0)) == (245, 235, 225)
    with SyncEndpoint(parity.run.endpoint, command="rows") as endpoint:
        wrong_type = endpoint.predict(EndpointRequest(url=f"{base}/blob.bin")).error
        assert (
            wrong_type["code"] == 400 and "table: file with name 'blob.bin' is not one of .csv" in wrong_type["details"]
        )
    with SyncEndpoint(parity.run.endpoint, command="add") as endpoint:
        not_json = endpoint.predict(EndpointRequest(url=f"{base}/blob.bin")).error
        assert not_json["code"] == 400 and "takes it only as JSON inputs" in not_json["details"]
    with SyncEndpoint(parity.run.endpoint) as handler:
        assert handler.predict(EndpointRequest(url=f"{base}/body.json")).value == {"body": {"hello": "world"}}
        blob = handler.predict(EndpointRequest(url=f"{base}/blob.bin")).value
        assert blob == {"bytes": 100, "type": "application/octet-stream"}


def test_async_request_status_and_poll_endpoints(parity: Parity) -> None:
    url = put(parity, "inputs/async.json", b'{"x": 5}')
    with AsyncEndpoint(parity.run.endpoint, command="double") as endpoint:
        result_url = asyncio.run(endpoint.async_request(url, timeout=30))
        assert unpickled(result_url) == frozenset({10.0})
        status = endpoint.status()
        assert status["ready"] is True and status["details"] is None and status["draining"] is False
        batch = endpoint.predict(EndpointRequest(args={"x": 1}, request_id="polled"))
        batch.wait(timeout=30)
        batch.poll_endpoints()  # nothing left to poll: a no-op
        assert batch.is_done(poll=False) and batch.get_responses()["polled"].status == "SUCCESS"


def test_url_problems_are_400s_naming_the_url_never_its_signature(parity: Parity, static_server) -> None:
    endpoint = parity.run.endpoint
    with AsyncEndpoint(endpoint, command="add") as client:
        with pytest.raises(ValueError, match="credentials in a URL are refused"):
            client.predict_batch([EndpointRequest(url="https://user:secret@example.com/x.json")])
        with pytest.raises(ValueError, match="not under the prefixes"):
            client.predict_batch([EndpointRequest(url="file:///etc/passwd")])
        missing = f"s3://{parity.bucket}/inputs/none.json?X-Amz-Signature=abc"
        [failed] = client.predict(EndpointRequest(url=missing)).wait(timeout=30).values()
    assert failed.status == "FAILURE" and failed.error["code"] == 400
    assert f"s3://{parity.bucket}/inputs/none.json" in failed.error["details"] and "abc" not in failed.error["details"]
    both = httpx.post(f"{endpoint}/requests", json={"args": {"a": 1}, "url": "s3://b/k.json"})
    assert both.status_code == 400 and "args or url, not both" in both.json()["details"]
    with pytest.raises(ValueError, match="args or url, not both"):
        EndpointRequest(args={}, url="s3://b/k.json")
    (static_server.root / "folder").mkdir()
    moved = httpx.post(f"{endpoint}/requests", json={"url": f"{static_server.base_url}/folder"})
    assert moved.status_code == 400 and "redirects are not followed" in moved.json()["details"]


def test_a_url_input_is_bounded_like_a_request_body(static_server: StaticServer) -> None:
    (static_server.root / "big.json").write_text(json.dumps(["x" * 50]))
    reader = UrlReader(["http://127.0.0.1"], max_bytes=20)
    with pytest.raises(RequestError, match="larger than 20 bytes"):
        reader.read(f"{static_server.base_url}/big.json")
    with pytest.raises(RequestError, match="reads no inputs from URLs"):
        UrlReader([], max_bytes=0).check(f"{static_server.base_url}/big.json")
    assert json.loads(UrlReader(["http://127.0.0.1"], max_bytes=0).read(f"{static_server.base_url}/big.json").data)


def test_training_commands_are_not_run_synchronously(parity: Parity) -> None:
    refused = httpx.post(f"{parity.run.endpoint}/requests", json={"command": "fit", "args": {"w": 1}})
    assert refused.status_code == 400 and "POST /fit" in refused.json()["details"]
