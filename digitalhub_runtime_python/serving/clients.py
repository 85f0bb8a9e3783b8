"""Endpoint clients over httpx: SyncEndpoint (request/response, streams) and AsyncEndpoint (async jobs).

A request carries ``args``, or a ``url`` the server reads them from; with ``return_pickled`` the server pickles the
result into the project's artifact store and answers its ``result_url``. A response's ``result`` is JSON text.
"""

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


@dataclass(frozen=True, kw_only=True)
class EndpointRequest:
    """One request: ``args`` is the JSON body (a command's inputs), or ``url`` a file the server reads it from
    (http(s) or s3; JSON, or the content for a handler or a command's one file or image input);
    ``return_pickled`` asks for the result pickled into the artifact store (``result_url``); ``request_id`` names
    it in a batch (distinct ones; generated when left out)."""

    args: Any = None
    url: str | None = None
    return_pickled: bool = False
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.url is not None and self.args is not None:
            raise ValueError("EndpointRequest: give args or url, not both")

    @property
    def plain(self) -> bool:
        """Nothing but args: sent as the body of the handler's or command's own route."""
        return self.url is None and not self.return_pickled

    def fields(self) -> dict[str, Any]:
        """The request as ``/jobs`` and ``/requests`` take it."""
        body = {"args": self.args, "url": self.url, "return_pickled": self.return_pickled}
        return {**body, "request_id": self.request_id} if self.request_id is not None else body


@dataclass(frozen=True)
class EndpointResponse:
    """``status`` SUCCESS, FAILURE or PENDING. On SUCCESS exactly one of ``result_url`` (the address of a pickled
    or large result) and ``result`` (JSON text: ``json.loads`` it, or read ``value``; bytes for a non-JSON answer)
    is set; on FAILURE ``error`` is ``{id, code, details}``."""

    status: str
    result_url: str | None = None
    result: str | bytes | None = None
    error: dict[str, Any] | None = None
    request_id: str | None = None

    @property
    def value(self) -> Any:
        """``result`` decoded: the JSON value, the bytes of a non-JSON answer, or None."""
        return json.loads(self.result) if isinstance(self.result, str) else self.result


class EndpointError(RuntimeError):
    """The server answered a request with an error; ``error`` is its ``{id, code, details}`` body."""

    def __init__(self, error: dict[str, Any]):
        super().__init__(f"{error.get('code')}: {error.get('details', 'request failed')}")
        self.error = error


class StreamError(EndpointError):
    """The server reported a failure in the middle of a stream."""


def _as_request(request: EndpointRequest | Any) -> EndpointRequest:
    return request if isinstance(request, EndpointRequest) else EndpointRequest(args=request)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _success(body: dict[str, Any], request_id: str | None) -> EndpointResponse:
    """SUCCESS from a job's or ``/requests``' JSON: ``result_url`` if there is one, else ``result`` as JSON text."""
    if body.get("result_url") is not None:
        return EndpointResponse(SUCCESS, result_url=body["result_url"], request_id=request_id)
    return EndpointResponse(SUCCESS, result=_json_text(body.get("result")), request_id=request_id)


def _job_response(body: dict[str, Any]) -> EndpointResponse:
    """An EndpointResponse from a job's JSON (status RUNNING counts as PENDING, CANCELLED as FAILURE)."""
    status = body["status"]
    if status == "SUCCESS":
        return _success(body, body["id"])
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

    def status(self) -> dict[str, Any]:
        """How the server is: ``ready`` (and ``details`` saying why not), requests ``in_flight``, ``draining``,
        ``jobs_running``."""
        health = self._json(self._client.get("/healthz"))
        ready = self._client.get("/readyz")
        details = None if ready.is_success else _error_of(ready)["details"]
        return {**health, "ready": ready.is_success, "details": details}

    def info(self) -> dict[str, Any]:
        """Runtime and Python versions, and the function and run served (``GET /info/version``)."""
        return self._json(self._client.get("/info/version"))

    def models(self) -> list[dict[str, Any]]:
        """The deployed models: name, key, size (bytes), load_seconds, deployed_at."""
        return list(self._json(self._client.get("/models"))["models"])

    def deploy_model(self, key: str, name: str | None = None) -> dict[str, Any]:
        """Deploy the Model entity ``key`` (as ``name``, default its own); needs the admin token in ``headers``."""
        return self._json(self._client.post("/models", json={"key": key, "name": name}))

    def undeploy_model(self, name: str) -> dict[str, Any]:
        """Undeploy the model ``name``; needs the admin token in ``headers``."""
        return self._json(self._client.delete(f"/models/{name}"))

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if not response.is_success:
            raise EndpointError(_error_of(response))
        return response.json()

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
        """POST the request's args as JSON (a ``url`` or ``return_pickled`` request goes through ``/requests``);
        SUCCESS with the result, FAILURE with the error body."""
        request = _as_request(request)
        if not request.plain:
            response = self._client.post("/requests", json={"command": self.command, **request.fields()})
            if response.is_success:
                return _success(response.json(), request.request_id)
            return EndpointResponse(FAILURE, error=_error_of(response), request_id=request.request_id)
        response = self._client.post(self.path, json=request.args)
        if response.is_success:
            content_type = response.headers.get("content-type", "")
            result = response.text if content_type.startswith("application/json") else response.content
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

    def poll_endpoints(self) -> None:
        """One round of polling for the unfinished jobs (``poll`` without waiting)."""
        self.poll()

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
        body = {"command": self.command, "requests": [r.fields() for r in map(_as_request, requests)]}
        return self._submitted(self._client.post("/jobs/batch", json=body))

    def _submitted(self, response: httpx.Response) -> AsyncEndpointBatchResponse:
        if not response.is_success:
            error = _error_of(response)
            raise ValueError(f"batch refused ({error['code']}): {error['details']}")
        return AsyncEndpointBatchResponse(self, [job["id"] for job in response.json()["jobs"]])

    async def async_request(self, url: str, timeout: float | None = None) -> str:
        """Submit a job reading its input from ``url`` and wait for it (long polls, no busy loop): the URL of its
        result, pickled (presigned on S3). EndpointError if it failed, TimeoutError after ``timeout`` s."""
        body = {"command": self.command, "requests": [EndpointRequest(url=url, return_pickled=True).fields()]}
        async with httpx.AsyncClient(base_url=self.url, **self._options) as client:
            batch = self._submitted(await client.post("/jobs/batch", json=body))
        [response] = (await batch.wait_async(timeout)).values()
        if response.status != SUCCESS or response.result_url is None:
            raise EndpointError(response.error or {"code": None, "details": "the job answered no result_url"})
        return response.result_url
