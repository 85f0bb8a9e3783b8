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
from digitalhub_runtime_python.models.run import ProcessInfo

FORK_SERVER = "digitalhub_runtime_python.entrypoints.fork_server"
UNKNOWN_EXIT = -255
"""Exit code reported when the fork server died before the child did (the child's own code is then unknown)."""


class ForkServerError(RuntimeError):
    """The fork server could not start a run's process."""


class ForkedRunner:
    """A runner child forked by the fork server, presented like ``subprocess.Popen``."""

    def __init__(self, pid: int, started: float, server: ForkServer):
        self.pid, self.started, self._server = pid, started, server
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self._server.exit_code(self, 0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._server.exit_code(self, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"runner {self.pid}", timeout or 0.0)
        return code


class ForkServer:
    """The client side: start the server, send requests, collect pids and exit codes on a reader thread."""

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
        self._pids: dict[int, tuple[int, float]] = {}  # request id -> pid and start time
        self._exits: dict[int, int] = {}  # pid -> exit code, until its runner takes it
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
                        message: dict[str, Any] = json.loads(line)
                        if "exit" in message:
                            self._exits[message["pid"]] = message["exit"]
                        elif "id" in message:
                            self._pids[message["id"]] = message["pid"], message["started"]
                    self._lock.notify_all()
        except OSError:
            pass
        with self._lock:
            self._alive = False
            self._lock.notify_all()

    def fork(self, run_key: str, env: dict[str, str], log: Path, timeout: float = 60.0) -> ForkedRunner:
        """Start ``run_key``'s runner in a forked child with ``env``, this process's folder and ``log``."""
        with self._lock:
            request_id = next(self._ids)
            request = {"id": request_id, "run": run_key, "env": env, "cwd": os.getcwd(), "log": str(log)}
            try:
                self._socket.sendall(json.dumps(request).encode() + b"\n")
            except OSError as exc:
                raise ForkServerError(f"the fork server is gone ({exc})") from None
            if not self._lock.wait_for(lambda: request_id in self._pids or not self._alive, timeout):
                raise ForkServerError(f"the fork server did not start run {run_key} within {timeout:g} s")
            if request_id not in self._pids:
                raise ForkServerError(f"the fork server exited (code {self._process.poll()}) before starting a run")
            return ForkedRunner(*self._pids.pop(request_id), self)

    def exit_code(self, runner: ForkedRunner, timeout: float | None) -> int | None:
        """The child's exit code once it exited (also set as ``runner.returncode``); None while it runs after
        ``timeout`` seconds. Safe to call from several threads at once (poll and wait)."""
        with self._lock:
            self._lock.wait_for(
                lambda: runner.returncode is not None or runner.pid in self._exits or not self._alive, timeout
            )
            if runner.returncode is None and runner.pid in self._exits:
                runner.returncode = self._exits.pop(runner.pid)
            if runner.returncode is not None or self._alive:
                return runner.returncode
        code = _orphan_exit(identify(runner.pid, runner.started), timeout)
        if code is not None:
            runner.returncode = code
        return code


def _orphan_exit(child: ProcessInfo, timeout: float | None) -> int | None:
    """The fork server died first: the child is nobody's to wait for, so watch for it to disappear."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while alive(child):
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
    return UNKNOWN_EXIT


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
