"""Start job runner processes fast: fork them from a server process that has the runtime imported already.

The stdlib ``multiprocessing`` fork server is started once per launching process with the job entrypoint preloaded;
each run is a fresh child forked from it, so it still gets its own process, session, environment, working folder,
log file and exit status, exactly as if ``python -m digitalhub_runtime_python.runner --run KEY`` had been exec'd,
without paying the interpreter start and the imports again.
"""

from __future__ import annotations

import atexit
import importlib
import multiprocessing
import multiprocessing.process
import os
import subprocess
import sys
import threading
from multiprocessing.context import ForkServerContext
from pathlib import Path

from digitalhub_runtime_python.contract import ENTRYPOINTS
from digitalhub_runtime_python.models.task import Action

_lock = threading.Lock()
_context: ForkServerContext | None = None


def supported() -> bool:
    """True where the platform has a fork server (POSIX)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def _fork_server() -> ForkServerContext:
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            assert isinstance(context, ForkServerContext)
            context.set_forkserver_preload([ENTRYPOINTS[Action.JOB]])
            _context = context
        return _context


def _child_main(run_key: str, env: dict[str, str], cwd: str, log: str) -> None:
    """In the forked child: become a session leader with the run's environment and log file, then run the job."""
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    entrypoint = importlib.import_module(ENTRYPOINTS[Action.JOB])  # preloaded: already imported
    try:
        code = entrypoint.main(["--run", run_key])
    finally:
        atexit._run_exitfuncs()  # what an interpreter exit would run; the fork server's child ends with os._exit
    sys.exit(code)


class ForkedRunner:
    """A runner child forked by the fork server, presented like ``subprocess.Popen``."""

    def __init__(self, run_key: str, env: dict[str, str], log: Path):
        self._process = _fork_server().Process(
            target=_child_main, args=(run_key, env, os.getcwd(), str(log)), name=f"runner {run_key}"
        )
        self._process.start()
        # multiprocessing joins its children when this process exits; a run must outlive a launcher that exits
        # (``dhrun run --no-wait``), so the child is not registered as one.
        getattr(multiprocessing.process, "_children", set()).discard(self._process)
        assert self._process.pid is not None
        self.pid: int = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(f"runner {self.pid}", timeout or 0.0)
        return code
