"""A fork server (zygote) for local job runs: the runtime imported once, one forked child per run.

Started by the local job launcher as ``python -m digitalhub_runtime_python.entrypoints.fork_server FD`` with one end
of a socket pair as FD. It reads requests as JSON lines, ``{"id": N, "run": KEY, "env": {...}, "cwd": DIR, "log":
FILE}``, forks a child per request and answers ``{"id": N, "pid": PID, "started": T}`` (T: the child's start time,
read before the child can be reaped, so it names that child even once its pid is reused), then ``{"pid": PID,
"exit": CODE}`` when that child exits (CODE as ``subprocess`` reports it: negative for a signal). The child becomes
the leader of a new session, takes the request's environment, folder and log file, and runs the job entrypoint
exactly as ``python -m digitalhub_runtime_python.runner --run KEY`` would. The server is single-threaded (forking
is safe) and exits when the launcher's end of the socket closes; children it forked run on.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import traceback
from typing import Any

import psutil

from digitalhub_runtime_python.contract import ENTRYPOINTS
from digitalhub_runtime_python.models.task import Action

PRELOAD = (ENTRYPOINTS[Action.JOB], "digitalhub_runtime_python.backends.local")


def _child(request: dict[str, Any], closing: list[int]) -> None:
    """In the forked child: become the run's process and never return."""
    code = 1
    try:
        os.setsid()
        for fd in closing:
            with contextlib.suppress(OSError):
                os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        code = importlib.import_module(ENTRYPOINTS[Action.JOB]).main(["--run", request["run"]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()  # what an interpreter exit would run
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve(control: socket.socket) -> None:
    """Fork a child per request until the launcher goes away; report each child's pid and exit code."""
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd, not the handler, carries the news
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wakeup_r, selectors.EVENT_READ)
    closing = [control.fileno(), wakeup_r, wakeup_w, selector.fileno()]
    pending = b""

    def send(message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the launcher is gone: its children run on regardless
            control.sendall(json.dumps(message).encode() + b"\n")

    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                data = control.recv(65536)
                if not data:
                    return
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    request = json.loads(line)
                    pid = os.fork()
                    if pid == 0:
                        _child(request, closing)
                    send({"id": request["id"], "pid": pid, "started": psutil.Process(pid).create_time()})
            else:
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup_r, 4096)
                while True:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    send({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(args[0]))
    for module in PRELOAD:
        importlib.import_module(module)
    control.sendall(b'{"ready": true}\n')
    serve(control)
    return 0


if __name__ == "__main__":
    sys.exit(main())
