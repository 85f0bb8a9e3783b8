"""Endpoint clients over httpx: SyncEndpoint (request/response, streams) and AsyncEndpoint (async jobs)."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

import httpx
from httpx_sse import connect_sse

SUCCESS, FAILURE, PENDING = "SUCCESS", "FAILURE", "PENDING"
LONG_POLL = 30.0  # seconds one GET may wait on the server for a job to finish
# Answers to a poll that say "not now" (busy, draining, job store unreachable): the job stays PENDING, polled again.
RETRY_LATER = frozenset({429, 502, 503, 504})
RETRY_PAUSE = 1.0  # seconds before polling again after such an answer


def tls_context(ca: str | None = None, cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    """A client TLS context trusting ``ca`` (the system store when None), presenting ``cert``/``key`` for mTLS."""
    context = ssl.create_default_context(cafile=ca)
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


@dataclass(frozen=True)
class EndpointRequest:
    """One request: ``args`` is the JSON body (a command's inputs); ``request_id`` names it in a batch."""

    args: Any = None
    request_id: str | None = None


@dataclass(frozen=True)
class EndpointResponse:
    """``status`` SUCCESS (``result`` holds the answer, or ``result_url`` the address of a large one), FAILURE
    (``error`` is ``{id, code, details}``) or PENDING."""

    status: str
    result: Any = None
    error: dict[str, Any] | None = None
    request_id: str | None = None
    result_url: str | None = None


class StreamError(RuntimeError):
    """The server reported a failure in the middle of a stream."""

    def __init__(self, error: dict[str, Any]):
        super().__init__(error.get("details", "stream failed"))
        self.error = error


def _as_request(request: EndpointRequest | Any) -> EndpointRequest:
    return request if isinstance(request, EndpointRequest) else EndpointRequest(args=request)


def _job_response(body: dict[str, Any]) -> EndpointResponse:
    """An EndpointResponse from a job's JSON (status RUNNING counts as PENDING, CANCELLED as FAILURE)."""
    status = body["status"]
    if status == "SUCCESS":
        return EndpointResponse(
            SUCCESS, result=body.get("result"), result_url=body.get("result_url"), request_id=body["id"]
        )
    if status in ("FAILURE", "CANCELLED"):
        error = body.get("error") or {"id": body["id"], "code": 499, "details": "the job was cancelled"}
        return EndpointResponse(FAILURE, error=error, request_id=body["id"])
    return EndpointResponse(PENDING, request_id=body["id"])


def _error_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "details" in body:
        return body
    return {"id": None, "code": response.status_code, "details": response.text[:2000]}


class _Endpoint:
    """Shared connection settings: base URL, command, TLS (``verify``: CA path or SSLContext), headers, timeout."""

    def __init__(
        self,
        url: str,
        *,
        command: str | None = None,
        verify: Any = True,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ):
        self.url = url.rstrip("/")
        self.command = command
        self._options = {"verify": verify, "headers": headers, "timeout": timeout}
        self._client = httpx.Client(base_url=self.url, **self._options)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class SyncEndpoint(_Endpoint):
    """Calls the handler (or ``command``) and waits for the answer."""

    @property
    def path(self) -> str:
        return f"/{self.command}" if self.command else "/"

    def predict(self, request: EndpointRequest | Any) -> EndpointResponse:
        """POST the request's args as JSON; SUCCESS with the decoded result, FAILURE with the error body."""
        request = _as_request(request)
        response = self._client.post(self.path, json=request.args)
        if response.is_success:
            content_type = response.headers.get("content-type", "")
            result = response.json() if content_type.startswith("application/json") else response.content
            return EndpointResponse(SUCCESS, result=result, request_id=request.request_id)
        return EndpointResponse(FAILURE, error=_error_of(response), request_id=request.request_id)

    def stream(self, request: EndpointRequest | Any) -> Iterator[Any]:
        """The items a streaming handler yields, decoded, as they arrive; StreamError if it fails midway."""
        with connect_sse(self._client, "POST", self.path, json=_as_request(request).args) as source:
            if not source.response.is_success:
                source.response.read()
                raise StreamError(_error_of(source.response))
            for event in source.iter_sse():
                if event.event == "error":
                    raise StreamError(json.loads(event.data))
                if event.data:
                    yield json.loads(event.data)


class AsyncEndpointBatchResponse:
    """Tracks a batch of async jobs: ``poll()``, ``is_done()``, ``get_responses()``, ``wait()`` or ``await``."""

    def __init__(self, endpoint: AsyncEndpoint, request_ids: list[str]):
        self._endpoint = endpoint
        self.request_ids = list(request_ids)
        self.responses = {request_id: EndpointResponse(PENDING, request_id=request_id) for request_id in request_ids}

    def _pending(self) -> list[str]:
        return [rid for rid, response in self.responses.items() if response.status == PENDING]

    def _record(self, request_id: str, response: httpx.Response) -> bool:
        """Note a poll's answer; True when the server said to retry later (the job stays PENDING)."""
        if response.status_code in (200, 202):
            self.responses[request_id] = _job_response(response.json())
        elif response.status_code in RETRY_LATER:
            return True
        else:  # e.g. 404: a memory job store restarted, or the result expired
            self.responses[request_id] = EndpointResponse(FAILURE, error=_error_of(response), request_id=request_id)
        return False

    def poll(self, wait: float = 0.0) -> bool:
        """One round of fetching the unfinished jobs (each may wait up to ``wait`` s on the server); True when the
        server asked to retry later for some of them."""
        client = self._endpoint._client
        retry = False
        for request_id in self._pending():
            response = client.get(
                f"/jobs/{request_id}/result", params={"wait": wait}, timeout=wait + (client.timeout.read or 0)
            )
            retry = self._record(request_id, response) or retry
        return retry

    def is_done(self, poll: bool = True) -> bool:
        """True once every job has finished; polls first unless ``poll`` is False."""
        if poll:
            self.poll()
        return not self._pending()

    def get_responses(self) -> dict[str, EndpointResponse]:
        """request_id -> EndpointResponse, as last polled."""
        return dict(self.responses)

    def wait(self, timeout: float | None = None) -> dict[str, EndpointResponse]:
        """Block until every job finished (long polling, no busy loop); TimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._pending():
            remaining = LONG_POLL if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"{len(self._pending())} of {len(self.request_ids)} requests still pending after {timeout} s"
                )
            if self.poll(wait=min(LONG_POLL, remaining)):
                time.sleep(min(RETRY_PAUSE, max(0.0, remaining)))
        return self.get_responses()

    async def wait_async(self, timeout: float | None = None) -> dict[str, EndpointResponse]:
        """``wait`` for asyncio code: the jobs are long-polled concurrently."""
        deadline = None if timeout is None else time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self._endpoint.url, **self._endpoint._options) as client:
            while pending := self._pending():
                remaining = LONG_POLL if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{len(pending)} of {len(self.request_ids)} requests still pending after {timeout} s"
                    )
                wait = min(LONG_POLL, remaining)
                responses = await asyncio.gather(
                    *(
                        client.get(
                            f"/jobs/{rid}/result", params={"wait": wait}, timeout=wait + (client.timeout.read or 0)
                        )
                        for rid in pending
                    )
                )
                retry = [self._record(rid, response) for rid, response in zip(pending, responses, strict=True)]
                if any(retry):
                    await asyncio.sleep(min(RETRY_PAUSE, max(0.0, remaining)))
        return self.get_responses()

    def __await__(self) -> Any:
        return self.wait_async().__await__()

    def cancel(self) -> None:
        """Cancel the jobs that have not finished."""
        for request_id in self._pending():
            self._record(request_id, self._endpoint._client.delete(f"/jobs/{request_id}"))


class AsyncEndpoint(_Endpoint):
    """Submits requests as server-side jobs (to the handler, or ``command``) and tracks them."""

    def predict(self, request: EndpointRequest | Any) -> AsyncEndpointBatchResponse:
        """Submit one request; the response tracks it."""
        return self.predict_batch([_as_request(request)])

    def predict_batch(self, requests: list[EndpointRequest]) -> AsyncEndpointBatchResponse:
        """Submit requests together; ``request_id``s must be distinct (the server checks and refuses the batch)."""
        body = {
            "command": self.command,
            "requests": [{"args": r.args, "request_id": r.request_id} for r in map(_as_request, requests)],
        }
        response = self._client.post("/jobs/batch", json=body)
        if not response.is_success:
            error = _error_of(response)
            raise ValueError(f"batch refused ({error['code']}): {error['details']}")
        return AsyncEndpointBatchResponse(self, [job["id"] for job in response.json()["jobs"]])
