"""The one way tests wait: poll a condition until it holds, with a timeout and a message saying what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy and return that; fail after ``timeout`` seconds.

    An exception other than AssertionError counts as "not yet" (a 404 before an object exists, a refused
    connection before a server listens); the last one is shown if the wait times out.
    """
    deadline, delay = time.monotonic() + timeout, 0.005
    last: Any = None
    while True:
        try:
            last = check()
        except AssertionError:
            raise
        except Exception as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
