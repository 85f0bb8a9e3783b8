"""The server a pod (or a local child) runs: ``python -m digitalhub_runtime_python.serving --run KEY``.

The store comes from DIGITALHUB_BACKEND / DIGITALHUB_HOME like the job runner, and like it the server moves into
its function's environment first; the server settings come from DIGITALHUB_SERVE_* and PORT (see
serving/config.py). Exit codes: 0 after a clean stop, 1 when init, startup or the environment failed, 2 for bad
settings or a missing ``serve`` extra (one line on stderr, before anything of it is imported).
A local launcher waiting on DIGITALHUB_SERVE_NOTIFY_FD is told the cause of a failure at once (``error <cause>``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from digitalhub_runtime_python.contract import (
    ENTRYPOINTS,
    ENV_PORT,
    ENV_SERVE_HOST,
    ENV_SERVE_NOTIFY_FD,
    ENV_SERVE_PORT,
    notify_failure,
)
from digitalhub_runtime_python.entrypoints.common import open_project, required_run, run_parser
from digitalhub_runtime_python.entrypoints.environment import enter_environment
from digitalhub_runtime_python.execution.capture import capture_output, journal_for
from digitalhub_runtime_python.extras import MissingExtra, require
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.task import Action


def main(argv: list[str] | None = None) -> int:
    parser = run_parser(ENTRYPOINTS[Action.SERVE], "Serve one run's function over HTTP until stopped.")
    parser.add_argument("--host", help=f"address to bind (or {ENV_SERVE_HOST})")
    parser.add_argument("--port", type=int, help=f"port to bind (or {ENV_PORT} / {ENV_SERVE_PORT})")
    args = parser.parse_args(argv)
    run_key = required_run(parser, args)
    try:
        require("serve")
    except MissingExtra as exc:
        return _failed(str(exc), 2)
    import uvicorn

    from digitalhub_runtime_python.serving.app import create_app
    from digitalhub_runtime_python.serving.config import ServeConfig
    from digitalhub_runtime_python.serving.server import DrainingServer
    from digitalhub_runtime_python.serving.service import Service

    try:
        config = ServeConfig.load(host=args.host, port=args.port)
    except SpecError as exc:
        return _failed(str(exc), 2)
    project = open_project(run_key)
    failed = enter_environment(project, run_key, ENTRYPOINTS[Action.SERVE], sys.argv[1:] if argv is None else argv)
    if failed is not None:
        return failed
    run = project.backend.store.get_run(run_key)
    logged = lambda records: project.backend.append_logs(run, records)  # noqa: E731
    with capture_output(logged, limit=project.backend.settings.log_limit, journal=journal_for(run.id)):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
        try:
            service = Service.from_run(project, run_key)
        except Exception as exc:  # the code or the run's arguments are wrong: say so and stop
            return _failed(f"cannot serve {run_key}: {type(exc).__name__}: {exc}", 1)
        server: DrainingServer | None = None

        def init_failed(exc: BaseException) -> None:
            assert server is not None
            if server.notify_fd is not None:
                notify_failure(server.notify_fd, f"init failed: {type(exc).__name__}: {exc}")
                server.notify_fd = None
            server.fail()

        app, gate = create_app(service, config, on_init_error=init_failed)
        server = DrainingServer(
            uvicorn.Config(app, log_config=None, **config.uvicorn_options()),
            gate,
            drain_delay=config.drain_delay,
            notify_fd=config.notify_fd,
        )
        # uvicorn re-raises the SIGTERM it drained on once done; handled here, the process exits with our code.
        signal.signal(signal.SIGTERM, lambda *_: None)
        server.run()
        return 1 if server.failed or not server.started else 0


def _failed(cause: str, code: int) -> int:
    """Say why this server cannot serve, on stderr and to a launcher waiting on the notify pipe; the exit code."""
    print(cause, file=sys.stderr)
    notify = os.environ.get(ENV_SERVE_NOTIFY_FD)
    if notify:
        notify_failure(int(notify), cause)
    return code


def run_and_exit() -> None:
    """Serve, then leave without waiting for user threads: sync code still running in a worker thread (an init
    stuck at shutdown, a request past the drain timeout) cannot be stopped, and Python would wait for it."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
