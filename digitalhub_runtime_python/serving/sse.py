"""Generator handlers stream their items as Server-Sent Events: one ``data:`` JSON event per item.

A failure mid-stream ends it with an ``event: error`` whose data is the usual ``{id, code, details}`` body.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi.encoders import jsonable_encoder
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool

from digitalhub_runtime_python.serving.errors import describe_failure, error_body, new_error_id


async def _events(items: Iterator[Any] | AsyncIterator[Any], debug: bool) -> AsyncIterator[ServerSentEvent]:
    source = items if inspect.isasyncgen(items) else iterate_in_threadpool(items)  # type: ignore[arg-type]
    try:
        async for item in source:
            if isinstance(item, ServerSentEvent):
                yield item
            else:
                yield ServerSentEvent(
                    data=json.dumps(jsonable_encoder(item), ensure_ascii=False, separators=(",", ":"))
                )
    except Exception as exc:  # the status line is gone already: report the failure in the stream
        error_id = new_error_id()
        details, extra = describe_failure(exc, error_id, debug)
        yield ServerSentEvent(event="error", data=json.dumps(error_body(500, details, error_id, **extra)))


def event_stream(items: Iterator[Any] | AsyncIterator[Any], debug: bool, grace: float) -> EventSourceResponse:
    """A ``text/event-stream`` response over a generator's items; sync generators run in a worker thread.
    When the server shuts down, the stream gets ``grace`` seconds to finish before it is cut."""
    return EventSourceResponse(_events(items, debug), ping=15, shutdown_grace_period=grace)
