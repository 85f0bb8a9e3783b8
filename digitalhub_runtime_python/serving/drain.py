"""The gate in front of the app: counts requests in flight, refuses new ones while draining, over the
concurrency limit, or with a body over the size limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from digitalhub_runtime_python.serving.errors import error_body

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

# Probes answer whatever the load: a busy server is alive, and readiness reports draining itself.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


class BodyTooLarge(HTTPException):
    """A request body grew past the limit while being read (bodies sent without a Content-Length)."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit} bytes: send less, or raise DIGITALHUB_SERVE_MAX_BODY_SIZE")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)  # uvicorn has refused malformed values already
    return None


def _capped(receive: Callable[[], Awaitable[Any]], limit: int) -> Callable[[], Awaitable[Any]]:
    received = 0

    async def capped() -> Any:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise BodyTooLarge(limit)
        return message

    return capped


class Gate:
    """Pure ASGI middleware. 429 once ``limit`` requests are in flight (0: no limit); 503 once draining;
    413 for bodies over ``max_body`` bytes (0: no limit)."""

    def __init__(self, app: ASGIApp, limit: int, max_body: int = 0):
        self.app = app
        self.limit, self.max_body = limit, max_body
        self.in_flight = 0
        self.draining = False
        self.on_drain: list[Callable[[], None]] = []  # called once draining starts (from a signal handler)
        self.ready = asyncio.Event()  # set by the app once it can serve everything (init done, job store open)

    def drain(self) -> None:
        """Refuse new requests from now on and tell the listeners (e.g. the job workers stop claiming)."""
        if not self.draining:
            self.draining = True
            for listener in self.on_drain:
                listener()

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.draining:
            await _refuse(
                send, 503, "the server is shutting down: retry on another replica", [(b"connection", b"close")]
            )
            return
        if self.limit and self.in_flight >= self.limit:
            await _refuse(
                send, 429, f"too many requests in flight (limit {self.limit}): retry shortly", [(b"retry-after", b"1")]
            )
            return
        if self.max_body:
            length = _content_length(scope)
            if length is None:
                receive = _capped(receive, self.max_body)
            elif length > self.max_body:
                await _refuse(send, 413, BodyTooLarge(self.max_body).detail, [(b"connection", b"close")])
                return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _refuse(
    send: Callable[[Any], Awaitable[None]], code: int, details: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(error_body(code, details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
