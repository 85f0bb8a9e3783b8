"""The event handed to served handlers."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python.serving.events import BodyError, Event, decode_body


def test_bodies_decode_by_content_type() -> None:
    assert decode_body(b'{"a": 1}', "application/json; charset=utf-8") == {"a": 1}
    assert decode_body(b"[1]", "application/problem+json") == [1]
    assert decode_body(b"raw", "text/plain") == b"raw"
    assert decode_body(b"", "application/json") is None
    with pytest.raises(BodyError, match="not valid JSON"):
        decode_body(b"{", "application/json")


def test_event_from_an_asgi_scope() -> None:
    scope = {
        "method": "PUT",
        "path": "/",
        "query_string": b"a=1&b=&a=2",
        "headers": [(b"content-type", b"application/json"), (b"X-Trace", b"t1")],
    }
    event = Event.from_scope(scope, b'{"x": 1}')
    assert (event.method, event.path, event.body, event.data) == ("PUT", "/", {"x": 1}, b'{"x": 1}')
    assert event.query == {"a": "2", "b": ""}
    assert event.headers == {"content-type": "application/json", "x-trace": "t1"}
    assert event.to_dict()["body"] == {"x": 1}
