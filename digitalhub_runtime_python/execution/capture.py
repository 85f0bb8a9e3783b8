"""Capture a run's stdout/stderr as log records while still writing them through."""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ..models import now
from ..stores import LogRecord

Flush = Callable[[list[LogRecord]], None]


class _Tee(io.TextIOBase):
    """A text stream that copies writes to ``target`` and into the shared buffer."""

    def __init__(self, target: TextIO, stream: str, sink: "LogSink"):
        self._target, self._stream, self._sink = target, stream, sink

    def write(self, text: str) -> int:
        self._target.write(text)
        self._sink.add(self._stream, text)
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return False


class LogSink:
    """Buffers records and hands them to ``flush`` at most every ``interval`` seconds, and at the end."""

    def __init__(self, flush: Flush, interval: float = 1.0):
        self._flush, self._interval = flush, interval
        self._records: list[LogRecord] = []
        self._lock = threading.Lock()
        self._last = time.monotonic()

    def add(self, stream: str, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._records.append(LogRecord(now(), stream, text))
            due = time.monotonic() - self._last >= self._interval
        if due:
            self.drain()

    def drain(self) -> None:
        with self._lock:
            records, self._records = self._records, []
            self._last = time.monotonic()
        if records:
            self._flush(records)


@contextmanager
def capture_output(flush: Flush, interval: float = 1.0) -> Iterator[LogSink]:
    """Redirect sys.stdout/sys.stderr through a LogSink for the duration of the block."""
    sink = LogSink(flush, interval)
    done = threading.Event()
    flusher = threading.Thread(target=_flush_every, args=(sink, interval, done), daemon=True, name="log-flusher")
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(saved[0], "stdout", sink), _Tee(saved[1], "stderr", sink)
    flusher.start()
    try:
        yield sink
    finally:
        sys.stdout, sys.stderr = saved
        done.set()
        flusher.join()
        sink.drain()


def _flush_every(sink: LogSink, interval: float, done: threading.Event) -> None:
    """Hand buffered output over even while the handler stays quiet, so logs of long runs show as they go."""
    while not done.wait(interval):
        sink.drain()
