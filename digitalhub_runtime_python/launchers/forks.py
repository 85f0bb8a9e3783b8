"""Start job runner processes fast: fork them from a fork server that has the runtime imported already.

One fork server per launching process (``entrypoints/fork_server.py``), started on first use and talked to over a
socket pair, so nothing outside this process can ask it for anything. Each run is still its own process, session,
environment, working folder, log file and exit status, as if ``python -m digitalhub_runtime_python.runner`` had
been started, without paying for the interpreter start and the imports again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.launchers.processes import alive, identify

FORK_SERVER = "digitalhub_runtime_python.entrypoints.fork_server"
UNKNOWN_EXIT = -255
"""Exit code reported when the fork server died before the child did (the child's own code is then unknown)."""


class ForkServerError(RuntimeError):
    """The fork server could not start a run's process."""


class ForkedRunner:
    """A runner child forked by the fork server, presented like ``subprocess.Popen`` (any thread may wait on it)."""

    def __init__(self, pid: int, started: float):
        self.pid, self.started = pid, started  # started: its start time, so that a reused pid is not taken for it
        self.returncode: int | None = None
        self._exited = threading.Event()
        self._orphaned = False

    def _exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def _orphan(self) -> None:
        """The fork server died first: the child is nobody's to wait for, so it is watched until it disappears."""
        self._orphaned = True
        self._exited.set()

    def poll(self) -> int | None:
        if self.returncode is None and self._orphaned and not alive(identify(self.pid, self.started)):
            self.returncode = UNKNOWN_EXIT
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._exited.wait(timeout):
            while self.poll() is None:  # orphaned: watch the pid
                if deadline is not None and time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"runner {self.pid}", timeout or 0.0)
        return self.returncode


class ForkServer:
    """The client side: start the server, send requests, hand pids and exit codes to their runners (reader thread)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self._socket = ours
        self._process = subprocess.Popen(
            [sys.executable, "-m", FORK_SERVER, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self._lock = threading.Condition()
        self._ids = iter(range(1, sys.maxsize))
        self._started: dict[int, ForkedRunner] = {}  # request id -> its child, until fork() takes it
        self._running: dict[int, ForkedRunner] = {}  # pid -> child, until it exits
        self._alive = True
        threading.Thread(target=self._read, daemon=True, name="fork-server-reader").start()

    @property
    def alive(self) -> bool:
        return self._alive

    def _read(self) -> None:
        buffer = b""
        try:
            while data := self._socket.recv(65536):
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                with self._lock:
                    for line in lines:
                        self._dispatch(json.loads(line))
                    self._lock.notify_all()
        except OSError:
            pass
        with self._lock:
            self._alive = False
            for runner in self._running.values():
                runner._orphan()
            self._running.clear()
            self._lock.notify_all()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "exit" in message:
            runner = self._running.pop(message["pid"], None)
            if runner is not None:
                runner._exit(message["exit"])
        elif "id" in message:
            runner = self._started[message["id"]] = ForkedRunner(message["pid"], message["started"])
            self._running[runner.pid] = runner

    def fork(self, run_key: str, env: dict[str, str], log: Path, timeout: float = 60.0) -> ForkedRunner:
        """Start ``run_key``'s runner in a forked child with ``env``, this process's folder and ``log``."""
        with self._lock:
            request_id = next(self._ids)
            request = {"id": request_id, "run": run_key, "env": env, "cwd": os.getcwd(), "log": str(log)}
            try:
                self._socket.sendall(json.dumps(request).encode() + b"\n")
            except OSError as exc:
                raise ForkServerError(f"the fork server is gone ({exc})") from None
            if not self._lock.wait_for(lambda: request_id in self._started or not self._alive, timeout):
                raise ForkServerError(f"the fork server did not start run {run_key} within {timeout:g} s")
            if request_id not in self._started:
                raise ForkServerError(f"the fork server exited (code {self._process.poll()}) before starting a run")
            return self._started.pop(request_id)


_server: ForkServer | None = None
_server_pid = 0
_server_lock = threading.Lock()


def fork_server() -> ForkServer:
    """This process's fork server, started on first use and again if it died (or this process is a fork)."""
    global _server, _server_pid
    with _server_lock:
        if _server is None or not _server.alive or _server_pid != os.getpid():
            _server, _server_pid = ForkServer(), os.getpid()
        return _server


def supported() -> bool:
    """True where processes can fork (POSIX)."""
    return hasattr(os, "fork")
