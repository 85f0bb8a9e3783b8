"""The gate in front of the app: counts requests in flight, refuses new ones while draining or over the limit."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .errors import error_body

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

# Probes answer whatever the load: a busy server is alive, and readiness reports draining itself.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


class Gate:
    """Pure ASGI middleware. 429 once ``limit`` requests are in flight (0: no limit); 503 once draining."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self.draining = False

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.draining:
            await _refuse(send, 503, "the server is shutting down: retry on another replica", [(b"connection", b"close")])
            return
        if self.limit and self.in_flight >= self.limit:
            await _refuse(send, 429, f"too many requests in flight (limit {self.limit}): retry shortly", [(b"retry-after", b"1")])
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _refuse(send: Callable[[Any], Awaitable[None]], code: int, details: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(error_body(code, details)).encode()
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
