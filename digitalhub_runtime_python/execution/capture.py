"""Capture a run's stdout/stderr as log records while still writing them through."""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from digitalhub_runtime_python.models.base import now
from digitalhub_runtime_python.stores.base import LogRecord

Flush = Callable[[list[LogRecord]], None]


class _Tee(io.TextIOBase):
    """A text stream that copies writes to ``target`` and into the shared buffer."""

    def __init__(self, target: TextIO, stream: str, sink: LogSink):
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
    """Buffers records and hands them to ``flush`` at most every ``interval`` seconds, and on ``close``.

    A timer thread, started with the first record, also hands them over while the handler stays quiet, so logs of
    long runs show as they go; runs that print nothing start no thread.
    """

    def __init__(self, flush: Flush, interval: float = 1.0):
        self._flush, self._interval = flush, interval
        self._records: list[LogRecord] = []
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None

    def add(self, stream: str, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._records.append(LogRecord(now(), stream, text))
            due = time.monotonic() - self._last >= self._interval
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_every, daemon=True, name="log-flusher")
                self._flusher.start()
        if due:
            self.drain()

    def drain(self) -> None:
        with self._lock:
            records, self._records = self._records, []
            self._last = time.monotonic()
        if records:
            self._flush(records)

    def close(self) -> None:
        """Stop the timer and hand over what is left."""
        self._closed.set()
        if self._flusher is not None:
            self._flusher.join()
        self.drain()

    def _flush_every(self) -> None:
        while not self._closed.wait(self._interval):
            self.drain()


@contextmanager
def capture_output(flush: Flush, interval: float = 1.0) -> Iterator[LogSink]:
    """Redirect sys.stdout/sys.stderr through a LogSink for the duration of the block."""
    sink = LogSink(flush, interval)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(saved[0], "stdout", sink), _Tee(saved[1], "stderr", sink)
    try:
        yield sink
    finally:
        sys.stdout, sys.stderr = saved
        sink.close()
