"""A module serving itself: ``serve()`` at the end of a file that declares ``@setup`` and ``@command`` functions,
run as ``python model.py``. ``DIGITALHUB_SERVE_*`` variables override its arguments (a platform starting the file
decides where it listens); ``meta`` prints the options and commands as JSON and exits; ``no_serve`` returns an
in-process client for the module's own tests.

The module is served as it is, in this process (no second import): a serve run is stored in the project (default:
named after the file) so models, training and results have a home; it is RUNNING while serving and STOPPED after.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from digitalhub_runtime_python.contract import (
    ENV_PORT,
    ENV_SERVE_DEBUG,
    ENV_SERVE_HOST,
    ENV_SERVE_META,
    ENV_SERVE_NO_SERVE,
    ENV_SERVE_OPTIONS,
    ENV_SERVE_PORT,
)
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.states import IllegalTransition, State

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from digitalhub_runtime_python.entities.run import Run
    from digitalhub_runtime_python.serving.commands import CommandSpec, SetupSpec
    from digitalhub_runtime_python.serving.config import ServeConfig
    from digitalhub_runtime_python.serving.service import Service

_INVALID = re.compile(r"[^a-z0-9]+")


def serve(
    host: str | None = None,
    port: int | None = None,
    model_options: Mapping[str, Any] | None = None,
    debug: bool | None = None,
    meta: bool | None = None,
    no_serve: bool | None = None,
    *,
    module: ModuleType | Mapping[str, Any] | None = None,
    handler: str | None = None,
    project: str | None = None,
) -> TestClient | None:
    """Serve the calling module's ``@setup`` and ``@command`` functions (or ``module``'s) until SIGINT/SIGTERM.

    ``host``, ``port``, ``model_options`` (the init options), ``debug``, ``meta`` and ``no_serve`` give way to
    ``DIGITALHUB_SERVE_HOST``, ``DIGITALHUB_SERVE_PORT`` (or ``PORT``), ``DIGITALHUB_SERVE_OPTIONS``,
    ``DIGITALHUB_SERVE_DEBUG``, ``DIGITALHUB_SERVE_META`` and ``DIGITALHUB_SERVE_NO_SERVE``. ``handler`` names a
    function to serve at ``/`` too. ``project`` defaults to the file's name. Returns the started client with
    ``no_serve`` (close it, or use it in ``with``), else None once the server stopped.
    """
    namespace = _namespace(module)
    meta, no_serve = _flag(ENV_SERVE_META, meta), _flag(ENV_SERVE_NO_SERVE, no_serve)
    if meta:
        print(json.dumps(describe(namespace, handler), indent=2))
        raise SystemExit(0)
    from digitalhub_runtime_python.extras import require

    require("serve")
    from digitalhub_runtime_python.serving.config import ServeConfig

    config = ServeConfig.load(
        **_unless_set(
            {
                (ENV_SERVE_HOST,): host,
                (ENV_SERVE_PORT, ENV_PORT): port,
                (ENV_SERVE_OPTIONS,): dict(model_options) if model_options is not None else None,
                (ENV_SERVE_DEBUG,): debug,
            }
        )
    )
    run, service = _served_run(namespace, handler, project)
    if no_serve:
        return _client(run, service, config)
    _listen(run, service, config)
    return None


def describe(namespace: Mapping[str, Any], handler: str | None = None) -> dict[str, Any]:
    """What ``meta`` prints: the handler, the init options and the commands, as ``GET /meta`` shows them."""
    from digitalhub_runtime_python.serving.commands import describe_options
    from digitalhub_runtime_python.serving.service import Target

    setup, commands = _declared(namespace)
    return {
        "handler": handler,
        "options": describe_options(setup.options if setup else None, {}),
        "commands": [spec.describe(Target(spec.func).mode == "stream") for spec in commands],
    }


def _namespace(module: ModuleType | Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``module``'s globals, or those of the module that called ``serve``."""
    if module is None:
        return sys._getframe(2).f_globals
    return vars(module) if isinstance(module, ModuleType) else module


def _declared(namespace: Mapping[str, Any]) -> tuple[SetupSpec | None, list[CommandSpec]]:
    from digitalhub_runtime_python.serving.commands import find_commands, find_setup

    return find_setup(namespace.values()), find_commands(namespace.values())


def _flag(variable: str, value: bool | None) -> bool:
    """A switch: the variable when set (``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``)."""
    text = os.environ.get(variable)
    if text is None:
        return bool(value)
    if text.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if text.strip().lower() in ("", "0", "false", "no", "off"):
        return False
    raise SpecError("serving settings", [(variable, f"{text!r} is not a boolean: use 1 or 0")])


def _unless_set(arguments: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """ServeConfig overrides from the arguments whose variables are all unset (the environment wins)."""
    return {
        names[0].removeprefix("DIGITALHUB_SERVE_").lower(): value
        for names, value in arguments.items()
        if value is not None and not any(name in os.environ for name in names)
    }


def _project_name(path: Path) -> str:
    return _INVALID.sub("-", path.stem.lower()).strip("-")[:63] or "serve"


def _served_run(namespace: Mapping[str, Any], handler: str | None, project: str | None) -> tuple[Run, Service]:
    """A stored serve run of the module's file, READY, and the Service around the module's functions."""
    from digitalhub_runtime_python.api import get_or_create_project
    from digitalhub_runtime_python.entities.task import run_id, run_spec
    from digitalhub_runtime_python.serving.service import Service

    commands = _declared(namespace)[1]
    if handler is not None and not callable(namespace.get(handler)):
        raise ValueError(f"serve(handler={handler!r}): the module has no function {handler!r}")
    if handler is None and not commands:
        raise ValueError("serve(): the module declares no @command: declare one, or pass handler='<function>'")
    source = Path(str(namespace.get("__file__") or "module.py")).resolve()
    name = _project_name(source)
    opened = get_or_create_project(project or name)
    entry = handler or commands[0].func.__name__  # a command as the handler: its module's commands are served
    function = opened.new_function(name, code_src=str(source), handler=entry)
    task = opened.new_task("python+serve", function=function.key)
    run = task.store_run(run_spec(function.key, "serve", None, None, None, None, True, "inprocess"), run_id(None))
    service = Service.from_namespace(
        opened, run.entity, list(namespace.values()), namespace[handler] if handler is not None else None
    )
    opened.backend.store.transition(run.key, State.READY, f"serving in process {os.getpid()}")  # run claimed by it
    return run, service


def _end(run: Run, state: State, message: str) -> None:
    try:
        run.backend.store.transition(run.key, state, message, process=None)
    except IllegalTransition:  # already ended (e.g. stopped from elsewhere)
        pass


def _running(run: Run, url: str) -> None:
    from digitalhub_runtime_python.models.run import ServiceInfo

    service = ServiceInfo(url=url, replicas=1, available_replicas=1)
    run.backend.store.transition(run.key, State.RUNNING, f"serving at {url}", service=service)


def _client(run: Run, service: Service, config: ServeConfig) -> TestClient:
    """The app in this process behind a started TestClient; closing it ends the run STOPPED."""
    from fastapi.testclient import TestClient

    from digitalhub_runtime_python.serving.app import create_app

    failed: list[BaseException] = []
    init_failed = asyncio.Event()

    def on_init_error(exc: BaseException) -> None:
        failed.append(exc)
        init_failed.set()

    app, gate = create_app(service, config, on_init_error=on_init_error)

    class ServedClient(TestClient):
        """An in-process client of the served module: started, and initialised; ``close()`` (or leaving a
        ``with`` block) stops it and ends the run."""

        def __enter__(self) -> ServedClient:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

        def close(self) -> None:
            if getattr(self, "portal", None) is not None:
                super().__exit__(None, None, None)
                _end(run, State.STOPPED, "in-process client closed")
            super().close()

    client = ServedClient(app, base_url="http://testserver")
    TestClient.__enter__(client)  # runs the lifespan: init and the job store start in the background

    async def ready() -> None:
        waits = [asyncio.ensure_future(gate.ready.wait()), asyncio.ensure_future(init_failed.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()

    assert client.portal is not None  # set by __enter__
    client.portal.call(ready)
    if failed:
        client.close()
        _end(run, State.ERROR, f"init failed: {type(failed[0]).__name__}: {failed[0]}")
        raise RuntimeError(f"the init function failed: {type(failed[0]).__name__}: {failed[0]}") from failed[0]
    _running(run, "http://testserver")
    return client


def _listen(run: Run, service: Service, config: ServeConfig) -> None:
    """Serve on the configured address until SIGINT/SIGTERM; the run ends STOPPED, or ERROR if init failed."""
    import uvicorn

    from digitalhub_runtime_python.serving.app import create_app
    from digitalhub_runtime_python.serving.server import DrainingServer

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    failed: list[BaseException] = []
    server: DrainingServer | None = None

    def on_init_error(exc: BaseException) -> None:
        failed.append(exc)
        assert server is not None
        server.fail()

    def on_ready(port: int) -> None:
        _running(run, f"{config.scheme}://{config.host}:{port}")

    app, gate = create_app(service, config, on_init_error=on_init_error)
    server = DrainingServer(
        uvicorn.Config(app, log_config=None, **config.uvicorn_options()),
        gate,
        drain_delay=config.drain_delay,
        on_ready=on_ready,
    )
    # uvicorn re-raises the signal it drained on once done: handled here, it ends nothing more than the server did
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except BaseException as exc:
        _end(run, State.ERROR, f"server failed: {type(exc).__name__}: {exc}")
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        _end(run, State.ERROR, f"init failed: {type(failed[0]).__name__}: {failed[0]}")
    elif not server.started:
        _end(run, State.ERROR, "the server did not start (see its log)")
    else:
        _end(run, State.STOPPED, "server shut down")
