"""The ``event`` a served handler receives: one HTTP request (or one async job's submission)."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl


class BodyError(ValueError):
    """The request says it is JSON but its body does not parse."""


def decode_body(data: bytes, content_type: str) -> Any:
    """JSON bodies parsed, empty bodies None, anything else left as bytes."""
    if not data:
        return None
    if content_type.startswith("application/json") or content_type.endswith("+json"):
        try:
            return json.loads(data)
        except ValueError as exc:
            raise BodyError(f"request body is not valid JSON ({exc}): send JSON or another content type") from None
        except RecursionError:
            raise BodyError("request body is JSON nested too deeply to parse: send a flatter document") from None
    return data


class Event:
    """A request: ``method``, ``path``, ``query``, ``headers`` (lower-case names), ``body`` and raw ``data``;
    ``cancelled`` is set when the async job it belongs to is cancelled."""

    __slots__ = ("method", "path", "data", "body", "_raw_query", "_raw_headers", "_query", "_headers", "_cancelled")

    def __init__(
        self,
        method: str,
        path: str,
        data: bytes,
        body: Any,
        raw_query: bytes = b"",
        raw_headers: Sequence[tuple[bytes, bytes]] | Mapping[str, str] = (),
    ):
        self.method, self.path, self.data, self.body = method, path, data, body
        self._raw_query, self._raw_headers = raw_query, raw_headers
        self._query: dict[str, str] | None = None
        self._headers: dict[str, str] | None = None
        self._cancelled: threading.Event | None = None

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any], data: bytes) -> Event:
        """The event of an ASGI HTTP request whose body has been read."""
        raw_headers = scope["headers"]
        content_type = next((v.decode("latin-1") for k, v in raw_headers if k == b"content-type"), "")
        return cls(
            scope["method"],
            scope["path"],
            data,
            decode_body(data, content_type),
            scope.get("query_string", b""),
            raw_headers,
        )

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (the last value of a repeated one)."""
        if self._query is None:
            self._query = dict(parse_qsl(self._raw_query.decode("latin-1"), keep_blank_values=True))
        return self._query

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            raw = self._raw_headers
            if isinstance(raw, Mapping):
                self._headers = {k.lower(): v for k, v in raw.items()}
            else:
                self._headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
        return self._headers

    @property
    def cancelled(self) -> threading.Event:
        """Set once the job running this call is cancelled: a long sync loop checks ``is_set()`` and returns early
        (a thread cannot be stopped from outside). Never set for a direct request."""
        if self._cancelled is None:
            self._cancelled = threading.Event()
        return self._cancelled

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
        }

    def __repr__(self) -> str:
        return f"Event({self.method} {self.path})"
