"""The session a pod (or a local child) runs: ``python -m digitalhub_runtime_python.sessions --run KEY``.

It starts a kernel for the run's function (its code on ``sys.path``, the session's folder as working directory)
and serves the session API (sessions/app.py) on DIGITALHUB_SESSION_HOST (default 0.0.0.0) and
DIGITALHUB_SESSION_PORT (default 8080), for clients that show DIGITALHUB_SESSION_TOKEN. The session ends when it is
destroyed or idle for the task's ``idle_timeout``: the run is recorded STOPPED and the process exits 0. Exit codes:
0 (ended, or the run had ended already), 1 (the kernel does not start: the run ends in ERROR), 2 (no token, a bad
port or a missing ``session`` extra: one line on stderr).

The kernel process starts first, before this process imports the runtime: both take about as long, so a session
is ready in about the time of the slower one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from digitalhub_runtime_python.extras import MissingExtra, require

if TYPE_CHECKING:
    from digitalhub_runtime_python.entities.project import Project
    from digitalhub_runtime_python.models.run import Run
    from digitalhub_runtime_python.models.states import State
    from digitalhub_runtime_python.sessions.process import KernelProcess


def kernel_python() -> str:
    """The Python the session's kernel runs: this process's, which is the function environment's one (a local
    session's launcher starts this process with it when it is built; otherwise this process enters the
    environment, as the job and serve entrypoints do, killing the kernel it started early before re-executing)."""
    return sys.executable


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when installed (the serve extra brings it): less time per request."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def serve(project: Project, run: Run, process: KernelProcess, token: str, host: str, port: int) -> str | None:
    """Connect the kernel, serve the API until the session ends; why it ended (None: stopped from outside)."""
    import uvicorn

    from digitalhub_runtime_python.contract import DEFAULT_IDLE_TIMEOUT, ENV_SESSION_NOTIFY_FD
    from digitalhub_runtime_python.models.function import Function
    from digitalhub_runtime_python.models.task import Task
    from digitalhub_runtime_python.sessions.app import create_app
    from digitalhub_runtime_python.sessions.runtime import SessionRuntime
    from digitalhub_runtime_python.sessions.server import SessionServer
    from digitalhub_runtime_python.sources.materialize import materialize

    store = project.backend.store
    task = store.get_as(Task, run.spec.task)
    function = store.get_as(Function, run.spec.function)
    tree = materialize(function.spec, project.backend.settings.home / "cache")
    idle_timeout = task.spec.idle_timeout or DEFAULT_IDLE_TIMEOUT
    runtime = SessionRuntime(
        process.python,
        project.backend.session_folder(run.id),
        tree.root,
        os.environ,
        idle_timeout,
        on_idle=lambda: server.end(f"no request for {idle_timeout} s: the session ended"),
    )
    notify = os.environ.get(ENV_SESSION_NOTIFY_FD)
    app = create_app(runtime, token, on_destroy=lambda: server.end("destroyed by user"))
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="off", timeout_keep_alive=300
    )
    server = SessionServer(config, notify_fd=int(notify) if notify else None)
    try:
        await runtime.start(process)
        ready = time.monotonic() - process.started
        print(
            f"session {run.id}: kernel ready after {ready:.2f} s ({process.python}), idle timeout {idle_timeout} s",
            flush=True,
        )
        runtime.watch_idle()
        # uvicorn re-raises the SIGTERM / SIGINT it shut down on once done; handled here, cleanup below runs.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)
        await server.serve()
    finally:
        await runtime.close()
    return server.reason


def main(argv: list[str] | None = None) -> int:
    try:
        require("session")
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return 2
    from digitalhub_runtime_python.sessions.process import KernelProcess

    process = KernelProcess(kernel_python(), os.environ)  # boots while the runtime loads; its setup comes later
    try:
        return _main(argv, process)
    finally:
        process.kill()


def _main(argv: list[str] | None, process: KernelProcess) -> int:
    from digitalhub_runtime_python.contract import (
        ENTRYPOINTS,
        ENV_SESSION_HOST,
        ENV_SESSION_NOTIFY_FD,
        ENV_SESSION_PORT,
        ENV_SESSION_TOKEN,
        SERVE_PORT,
        notify_failure,
    )
    from digitalhub_runtime_python.entities.backend import ACCESS_FILE
    from digitalhub_runtime_python.entrypoints.common import open_project, required_run, run_parser
    from digitalhub_runtime_python.entrypoints.environment import enter_environment
    from digitalhub_runtime_python.execution.capture import capture_output, journal_for
    from digitalhub_runtime_python.models.run import ErrorInfo
    from digitalhub_runtime_python.models.states import State, is_final
    from digitalhub_runtime_python.models.task import Action
    from digitalhub_runtime_python.sessions.kernel import KernelError

    module = ENTRYPOINTS[Action.SESSION]
    parser = run_parser(module, "Serve an interactive session on one run's function.")
    run_key = required_run(parser, parser.parse_args(argv))
    if not os.environ.get(ENV_SESSION_TOKEN):
        print(f"{ENV_SESSION_TOKEN} is not set: a session's API needs a token", file=sys.stderr)
        return 2
    host = os.environ.get(ENV_SESSION_HOST, "0.0.0.0")
    try:
        port = int(os.environ.get(ENV_SESSION_PORT, SERVE_PORT))
    except ValueError:
        print(f"{ENV_SESSION_PORT} must be a port number, not {os.environ[ENV_SESSION_PORT]!r}", file=sys.stderr)
        return 2
    project = open_project(run_key)
    arguments = sys.argv[1:] if argv is None else argv
    failed = enter_environment(project, run_key, module, arguments, before_exec=process.kill)
    if failed is not None:
        return failed
    token = os.environ.pop(ENV_SESSION_TOKEN)  # after a re-execution: the environment's process needs it too
    run = project.backend.store.get_run(run_key)
    if is_final(run.status.state):  # e.g. a pod restarted after its session ended: the operator removes it
        print(f"session {run.id} is {run.status.state}: nothing to serve", file=sys.stderr)
        return 0
    logged = lambda records: project.backend.append_logs(run, records)  # noqa: E731
    with capture_output(logged, limit=project.backend.settings.log_limit, journal=journal_for(run.id)):
        try:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                reason = runner.run(serve(project, run, process, token, host, port))
        except KernelError as exc:
            message = f"the session's kernel does not start: {exc}"
            print(message, file=sys.stderr)
            error = ErrorInfo(type="KernelError", message=message)
            _record(project, run_key, State.ERROR, message, error=error)
            notify = os.environ.get(ENV_SESSION_NOTIFY_FD)
            if notify:
                notify_failure(int(notify), message)
            return 1
        finally:
            (project.backend.session_folder(run.id) / ACCESS_FILE).unlink(missing_ok=True)
    if reason is not None:
        _record(project, run_key, State.STOPPED, reason)
    return 0


def _record(project: Project, run_key: str, state: State, message: str, **status: object) -> None:
    from digitalhub_runtime_python.models.states import IllegalTransition

    try:
        project.backend.store.transition(run_key, state, message, process=None, **status)
    except IllegalTransition:  # stopped meanwhile
        pass


def run_and_exit() -> None:
    """Serve, then leave without waiting for threads (the logs are flushed by then)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
