"""Turn what a handler returns into an HTTP response: JSON, bytes, a Response as is, or a stream of events."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.responses import Response

from digitalhub_runtime_python.serving.sse import event_stream

JSON = "application/json"


class ResultError(TypeError):
    """A handler returned something that cannot be sent as JSON."""


def json_bytes(value: Any) -> bytes:
    """Compact JSON; pydantic models, dataclasses, dates and the like are converted first."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(jsonable_encoder(value), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise ResultError(
            f"the handler returned a {type(value).__name__}, which is not JSON ({exc}): "
            "return JSON values, bytes or a starlette Response"
        ) from None


def is_stream(value: Any) -> bool:
    return inspect.isgenerator(value) or inspect.isasyncgen(value)


@dataclass(frozen=True)
class Renderer:
    """Makes the response for a handler's return value. ``stream_grace``: seconds a stream may go on once the
    server shuts down; ``debug``: failures in streams carry their message and traceback."""

    debug: bool = False
    stream_grace: float = 0.0

    def __call__(self, value: Any) -> Response:
        if isinstance(value, Response):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return Response(bytes(value), media_type="application/octet-stream")
        if is_stream(value):
            return event_stream(value, self.debug, self.stream_grace)
        return Response(json_bytes(value), media_type=JSON)
