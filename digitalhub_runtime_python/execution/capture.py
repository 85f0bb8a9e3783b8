"""Capture each run's stdout/stderr as log records, per run, while still writing them through.

While any run captures, ``sys.stdout`` and ``sys.stderr`` are routers: a write goes to the stream they replaced and
to the sink of the run whose context is writing (a context variable, so two runs in two threads, or two asyncio
tasks, never get each other's lines). Threads a handler starts do not inherit its context; their lines go to the
run when it is the only one capturing in the process, else only to the process's streams.

Credentials in URLs (``models/redaction.py``) are masked in what a run prints. A sink keeps at most ``limit``
characters per run: the first half as it comes, then a rolling tail held back until the run ends, with a line
saying how much was dropped in between.

In a run's local child process (``journal``: the file its stdout and stderr go to), each write reaches the file at
once, and after each hand-over to the store the sink records (``JournalMark``) how much of the file the store
holds, so that the output of a child that dies is recovered from the file without loss or repetition.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TextIO

from digitalhub_runtime_python.contract import ENV_RUN_LOG
from digitalhub_runtime_python.models.base import now
from digitalhub_runtime_python.models.redaction import mask
from digitalhub_runtime_python.settings import DEFAULT_LOG_LIMIT, ENV_LOG_LIMIT
from digitalhub_runtime_python.stores.base import LogRecord

Flush = Callable[[list[LogRecord]], None]

_current: ContextVar[LogSink | None] = ContextVar("digitalhub_log_sink", default=None)
_active: list[LogSink] = []
_routing = threading.Lock()


def journal_for(run_id: str) -> Path | None:
    """This process's log file when this process is run ``run_id``'s local child (``DIGITALHUB_RUN_LOG``)."""
    path = os.environ.get(ENV_RUN_LOG)
    return Path(path) if path and Path(path).stem == run_id else None


class JournalMark:
    """How many bytes of a child's log file the store holds, in ``<log>.saved``: a fixed-width number written in one
    ``pwrite``, so a child killed meanwhile leaves the old value or the new one, never a torn one."""

    WIDTH = 20

    def __init__(self, journal: Path):
        self.path = journal.with_suffix(".saved")

    def read(self) -> int:
        try:
            return int(self.path.read_bytes()[: self.WIDTH] or b"0")
        except (FileNotFoundError, ValueError):
            return 0

    def write(self, value: int) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, f"{value:0{self.WIDTH}d}".encode(), 0)
        finally:
            os.close(fd)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the mark for a read-then-write (two processes recovering the same child's output)."""
        with open(self.path, "a") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            yield


def dropped_notice(count: int, limit: int) -> str:
    """The line standing for output dropped between a log's head and tail."""
    return f"\n[... {count} characters of output dropped: a run keeps {limit} ({ENV_LOG_LIMIT}) ...]\n"


class _Router:
    """Stands in for ``sys.stdout`` / ``sys.stderr``: writes through, and into the writing run's sink."""

    def __init__(self, target: TextIO, stream: str):
        self.target, self.stream = target, stream

    def write(self, text: str) -> int:
        sink = _current.get() or _only_sink()
        if sink is None:
            return self.target.write(text)
        sink.write(self.target, self.stream, mask(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, buffer...: the stream's own
        return getattr(self.target, name)


def _only_sink() -> LogSink | None:
    """The sink of the one run capturing in this process, for writes from threads outside any run's context."""
    active = _active
    return active[0] if len(active) == 1 else None


class LogSink:
    """Buffers records and hands them to ``flush`` at most every ``interval`` seconds, and on ``close``.

    A timer thread, started with the first record, also hands them over while the handler stays quiet, so logs of
    long runs show as they go; runs that print nothing start no thread.
    """

    def __init__(
        self, flush: Flush, interval: float = 1.0, limit: int = DEFAULT_LOG_LIMIT, journal: Path | None = None
    ):
        self._flush, self._interval, self.limit = flush, interval, limit
        self._journal = journal
        self._records: list[LogRecord] = []
        self._head = limit // 2  # characters still kept as they come
        self._tail: deque[LogRecord] = deque()
        self._tail_size = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._saved = self._mark = 0  # bytes of the journal the store holds / will hold after the next hand-over
        self._last = time.monotonic()
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None

    def write(self, target: TextIO, stream: str, text: str) -> None:
        """Write ``text`` through to ``target`` and keep it as a record of ``stream``."""
        if self._journal is None:
            target.write(text)
            self.add(stream, text)
            return
        with self._lock:  # the file and the records advance together: the mark below is exact
            target.write(text)
            target.flush()
            self._keep(stream, text)
            if not self._tail:
                self._mark = _size(target, self._mark)
        self._start_flusher()

    def add(self, stream: str, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._keep(stream, text)
        self._start_flusher()

    def _keep(self, stream: str, text: str) -> None:
        """Keep ``text`` in the head while it has room, else in the tail (dropping the tail's oldest)."""
        if not text:
            return
        if self._head > 0:
            head, text = text[: self._head], text[self._head :]
            self._head -= len(head)
            self._records.append(LogRecord(now(), stream, head))
            if not text:
                return
        self._tail.append(LogRecord(now(), stream, text))
        self._tail_size += len(text)
        room = self.limit - self.limit // 2
        while self._tail_size > room:
            oldest = self._tail.popleft()
            cut = min(len(oldest.text), self._tail_size - room)
            self._tail_size -= cut
            self.dropped += cut
            if cut < len(oldest.text):
                self._tail.appendleft(LogRecord(oldest.time, oldest.stream, oldest.text[cut:]))

    def _start_flusher(self) -> None:
        with self._lock:
            due = time.monotonic() - self._last >= self._interval
            if self._flusher is None and not self._closed.is_set():
                self._flusher = threading.Thread(target=self._flush_every, daemon=True, name="log-flusher")
                self._flusher.start()
        if due:
            self.drain()

    def drain(self, final: bool = False) -> None:
        """Hand the kept records over; ``final``: the tail too, after a line saying how much was dropped."""
        with self._lock:
            records, self._records = self._records, []
            if final and self._tail:
                if self.dropped:
                    records.append(LogRecord(now(), "system", dropped_notice(self.dropped, self.limit)))
                records.extend(self._tail)
                self._tail.clear()
            mark = self._mark
            self._last = time.monotonic()
        if records:
            self._flush(records)
        if self._journal is not None and mark != self._saved:
            self._saved = mark
            JournalMark(self._journal).write(mark)

    def close(self) -> None:
        """Stop the timer and hand over what is left."""
        self._closed.set()
        if self._flusher is not None:
            self._flusher.join()
        self.drain(final=True)

    def _flush_every(self) -> None:
        while not self._closed.wait(self._interval):
            self.drain()


def _size(stream: TextIO, known: int) -> int:
    """The size of the file behind ``stream`` (``known`` when it has none, e.g. replaced by user code)."""
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, ValueError):
        return known


def _route() -> None:
    """Put routers in front of the process's streams (again, if something replaced them since)."""
    if not isinstance(sys.stdout, _Router):
        sys.stdout = _Router(sys.stdout, "stdout")
    if not isinstance(sys.stderr, _Router):
        sys.stderr = _Router(sys.stderr, "stderr")


def _unroute() -> None:
    if isinstance(sys.stdout, _Router):
        sys.stdout = sys.stdout.target
    if isinstance(sys.stderr, _Router):
        sys.stderr = sys.stderr.target


@contextmanager
def capture_output(
    flush: Flush, interval: float = 1.0, limit: int = DEFAULT_LOG_LIMIT, journal: Path | None = None
) -> Iterator[LogSink]:
    """Capture what this context (and, while no other run captures, any thread) prints, through a LogSink."""
    sink = LogSink(flush, interval, limit, journal)
    with _routing:
        _route()
        _active.append(sink)
    token = _current.set(sink)
    try:
        yield sink
    finally:
        _current.reset(token)
        with _routing:
            _active.remove(sink)
            if not _active:
                _unroute()
        sink.close()
