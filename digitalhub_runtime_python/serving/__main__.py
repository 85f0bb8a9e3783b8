"""The serving entrypoint of a pod or a local child: ``python -m digitalhub_runtime_python.serving --run KEY``.

The store comes from DIGITALHUB_BACKEND / DIGITALHUB_HOME like the job runner; the server settings from
DIGITALHUB_SERVE_* and PORT (see config.py). Exit codes: 0 after a clean stop, 1 when init or startup failed,
2 for bad settings or a missing ``serve`` extra (one line on stderr, before anything of it is imported).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from digitalhub_runtime_python.extras import MissingExtra, require

from ..api import get_or_create_project
from ..execution.capture import capture_output
from ..models import SpecError, parse_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digitalhub_runtime_python.serving")
    parser.add_argument(
        "--run", default=os.environ.get("DIGITALHUB_RUN_KEY"), help="key of the run (or DIGITALHUB_RUN_KEY)"
    )
    parser.add_argument("--host", help="address to bind (or DIGITALHUB_SERVE_HOST)")
    parser.add_argument("--port", type=int, help="port to bind (or PORT / DIGITALHUB_SERVE_PORT)")
    args = parser.parse_args(argv)
    if not args.run:
        parser.error("--run KEY (or DIGITALHUB_RUN_KEY) is required")
    try:
        require("serve")
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app
    from .config import ServeConfig
    from .server import DrainingServer
    from .service import Service

    try:
        config = ServeConfig.load(host=args.host, port=args.port)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    project = get_or_create_project(parse_key(args.run).project)
    store = project.client.store
    with capture_output(lambda records: store.append_logs(args.run, records)):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
        try:
            service = Service.from_run(project, args.run)
        except Exception as exc:  # the code or the run's arguments are wrong: say so and stop
            print(f"cannot serve {args.run}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        server: DrainingServer | None = None

        def init_failed(_exc: BaseException) -> None:
            assert server is not None
            server.fail()

        gate = create_app(service, config, on_init_error=init_failed)
        server = DrainingServer(
            uvicorn.Config(gate, log_config=None, **config.uvicorn_options()),
            gate,
            service,
            drain_delay=config.drain_delay,
            notify_fd=config.notify_fd,
        )
        # uvicorn re-raises the SIGTERM it drained on once done; handled here, the process exits with our code.
        signal.signal(signal.SIGTERM, lambda *_: None)
        server.run()
        return 1 if server.failed or not server.started else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Sync user code still running in a worker thread (an init stuck at shutdown, a request past the drain
    # timeout) cannot be stopped, and Python would wait for it: leave without waiting.
    os._exit(code)
