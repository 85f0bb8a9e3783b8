"""Serving a function over HTTP: the decorators served modules use, the server, and endpoint clients.

Importing this package needs nothing beyond the core install; the server and the clients import FastAPI,
uvicorn and httpx (the ``serve`` extra) when first used.
"""

from __future__ import annotations

from typing import Any

from .commands import command, model_loader, setup

_CLIENTS = (
    "AsyncEndpoint",
    "AsyncEndpointBatchResponse",
    "EndpointError",
    "EndpointRequest",
    "EndpointResponse",
    "SyncEndpoint",
)


def __getattr__(name: str) -> Any:
    if name in _CLIENTS:
        from . import clients

        return getattr(clients, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["command", "model_loader", "setup", *_CLIENTS]
