"""Child processes of local runs: starting them with their log file, knowing them again, telling them to stop.

A process is known by its pid, its start time and its host (``ProcessInfo``): a pid alone may belong to another
process once the first one is gone, and such a process is never signalled.
"""

from __future__ import annotations

import functools
import os
import re
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import psutil

from digitalhub_runtime_python.contract import local_log
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.models.run import ProcessInfo

HOST = socket.gethostname()
_INFO = re.compile(r"^(INFO:|\S+ \S+ INFO )")
SAME_START = 0.05
"""Seconds two readings of one process's start time may differ by (they are computed from clock ticks)."""


class Child(Protocol):
    """A started child process, as ``subprocess.Popen`` presents one."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def log_path(backend: Backend, run_id: str) -> Path:
    """The file a local child's stdout and stderr go to (its logs reach the store through the runtime's capture)."""
    path = local_log(backend.settings.home, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def last_line(path: Path, size: int = 4000) -> str:
    """The last line a child wrote to its log file that is not a log record of level INFO (uvicorn's chatter)."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, os.path.getsize(path) - size))
            lines = file.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    telling = [line.strip() for line in lines if line.strip() and not _INFO.search(line)]
    return telling[-1] if telling else "(no output)"


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def identify(pid: int, started: float | None = None) -> ProcessInfo:
    """The identity of process ``pid`` of this host (``started``: its start time, when already known)."""
    if started is None:
        started = psutil.Process(pid).create_time()
    return ProcessInfo(pid=pid, started=started, host=HOST)


@functools.cache
def _this_process(pid: int) -> ProcessInfo:
    return identify(pid)


def this_process() -> ProcessInfo:
    """The identity of the calling process."""
    return _this_process(os.getpid())


def _status(info: ProcessInfo) -> str | None:
    """The status of the process ``info`` names (``zombie``: exited, not reaped); None once its pid is free or
    held by a process started at another time."""
    if info.pid == os.getpid():
        return psutil.STATUS_RUNNING if abs(this_process().started - info.started) < SAME_START else None
    try:
        process = psutil.Process(info.pid)
        return process.status() if abs(process.create_time() - info.started) < SAME_START else None
    except psutil.NoSuchProcess:
        return None


def alive(info: ProcessInfo) -> bool | None:
    """Whether the process ``info`` names still runs: None when it runs on another host (it cannot be checked).

    A pid now held by a process started at another time, or a process that exited and awaits reaping, is gone.
    """
    if info.host != HOST:
        return None
    return _status(info) not in (None, psutil.STATUS_ZOMBIE)


def _signal_group(info: ProcessInfo, signum: int) -> bool:
    """Signal the process group ``info`` leads (its session) while its leader is the process ``info`` names
    (running, or exited and not yet reaped, which keeps its pid from being reused); False when it is not."""
    if info.host != HOST or info.pid == os.getpid() or _status(info) is None:
        return False
    try:
        os.killpg(info.pid, signum)
    except ProcessLookupError:
        return False
    return True


def terminate(info: ProcessInfo, process: Child | None, grace: float) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not exited after ``grace`` seconds.

    ``process``: this process's handle on it, if it is our child (it is then waited for, and reaped).
    """
    if not _signal_group(info, signal.SIGTERM):
        return
    if process is not None:
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass
    else:  # started by another process: it cannot be waited for, only watched
        deadline, delay = time.monotonic() + grace, 0.01
        while alive(info) and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
    if _signal_group(info, signal.SIGKILL) and process is not None:
        process.wait()  # reap it, so it is gone when stop() returns


def read_line(fd: int, timeout: float) -> str | None:
    """The first line written to ``fd``; what came before end of file (often ``""``); None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 256)
        if not chunk:
            return data.decode()
        data += chunk
    return data.split(b"\n", 1)[0].decode()
