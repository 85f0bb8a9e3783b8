"""Child processes of local runs: starting them with their log file, telling them to stop, and watching them."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.states import IllegalTransition, State
from digitalhub_runtime_python.pids import alive


class Child(Protocol):
    """A started child process, as ``subprocess.Popen`` presents one."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def log_path(backend: Backend, run_id: str) -> Path:
    """The file a local child's stdout and stderr go to (its logs reach the store through the runtime's capture)."""
    folder = backend.settings.home / "processes"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{run_id}.log"


def tail(path: Path, size: int = 2000) -> str:
    """The end of a child's log file, for messages about how it ended."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, os.path.getsize(path) - size))
            text = file.read().decode(errors="replace")
    except FileNotFoundError:
        text = ""
    return text.strip() or "(no output)"


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


def _signal_group(pid: int, signum: int) -> bool:
    """Signal the process group led by ``pid`` (the child's session); False when it is gone."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        return False
    return True


def terminate(pid: int, process: Child | None, grace: float) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not exited after ``grace`` seconds."""
    if not _signal_group(pid, signal.SIGTERM):
        return
    if process is not None:
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass
    else:  # started by another process: it cannot be waited for, only watched
        deadline, delay = time.monotonic() + grace, 0.01
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
    if _signal_group(pid, signal.SIGKILL) and process is not None:
        process.wait()  # reap it, so it is gone when stop() returns


def stop_process(backend: Backend, run: Run, process: Child | None, grace: float) -> bool:
    """Mark the run STOPPED and terminate its process; False (nothing done) if the run had already finished."""
    try:
        backend.store.transition(run.key, State.STOPPED, "stopped by user")
    except IllegalTransition:
        return False
    if run.status.pid:
        terminate(run.status.pid, process, grace)
    return True


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
