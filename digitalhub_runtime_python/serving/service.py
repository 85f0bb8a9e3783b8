"""What a serve run serves: its handler, typed commands and init function, bound to the run's arguments."""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entities.run import Run as RunObject
from digitalhub_runtime_python.execution.arguments import RESERVED, compose_arguments
from digitalhub_runtime_python.execution.context import Context
from digitalhub_runtime_python.execution.loader import HandlerError
from digitalhub_runtime_python.execution.prepare import prepare
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.serving.commands import (
    COMMAND_ATTRIBUTE,
    CommandSpec,
    SetupSpec,
    describe_options,
    find_commands,
    find_model_loader,
    find_setup,
)
from digitalhub_runtime_python.serving.errors import RequestError
from digitalhub_runtime_python.serving.events import Event

EVENT_ARGUMENTS = ("event", "events")
_EVENT = object()  # placeholder for the per-request event while binding arguments once


@dataclass
class ServeContext(Context):
    """The ``context`` of a served function: also the init ``options`` in force, what init returned (``state``) and
    the models deployed into the server (``models``: name -> ``DeployedModel``, see ``serving/models_admin.py``)."""

    options: dict[str, Any] = field(default_factory=dict)
    state: Any = None
    models: dict[str, Any] = field(default_factory=dict)


class Target:
    """A user function and how the event loop calls it: awaited, in a worker thread, or as a stream.

    A cancelled call to a sync function returns at once; its thread cannot be stopped and runs on, unawaited.
    """

    __slots__ = ("func", "mode")

    def __init__(self, func: Callable[..., Any]):
        self.func = func
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            self.mode = "stream"  # calling it only creates the generator; iterating happens while responding
        elif inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(type(func).__call__):
            self.mode = "async"
        else:
            self.mode = "thread"

    async def __call__(self, kwargs: dict[str, Any]) -> Any:
        if self.mode == "async":
            return await self.func(**kwargs)
        if self.mode == "stream":
            return self.func(**kwargs)
        return await anyio.to_thread.run_sync(functools.partial(self.func, **kwargs), abandon_on_cancel=True)


def _namespace(func: Callable[..., Any]) -> list[Any]:
    """The values defined next to ``func`` in its module, where ``@command`` and ``@setup`` functions are found."""
    namespace = getattr(inspect.unwrap(func), "__globals__", None)
    if namespace is None:
        module = sys.modules.get(getattr(func, "__module__", "") or "")
        namespace = vars(module) if module is not None else {}
    return list(namespace.values())


def _init_target(
    namespace: list[Any], name: str | None, handler_name: str
) -> tuple[Callable[..., Any] | None, SetupSpec | None]:
    """The init function: the spec's ``init_function`` or the module's ``@setup`` function (they must agree)."""
    decorated = find_setup(namespace)
    if name is None:
        return (decorated.func if decorated else None), decorated
    func = next((value for value in namespace if callable(value) and getattr(value, "__name__", None) == name), None)
    if func is None:
        raise HandlerError(f"init_function {name!r}: no such function next to handler {handler_name!r}")
    if decorated is not None and decorated.func is not func:
        raise HandlerError(f"init_function {name!r} and @setup function {decorated.func.__name__!r} differ: keep one")
    return func, decorated


class Service:
    """The served code with the run's arguments bound once; the HTTP layer only adds the per-request event.

    ``handler`` None serves the commands only (``/`` answers 404 naming them)."""

    def __init__(
        self,
        project: Project,
        run: Run,
        handler: Callable[..., Any] | None,
        *,
        init_function: Callable[..., Any] | None = None,
        setup: SetupSpec | None = None,
        commands: list[CommandSpec] | None = None,
        inputs: Mapping[str, Any] | None = None,
        model_loader: Callable[..., Any] | None = None,
    ):
        self.run = run
        self.context = ServeContext(
            project=project, run=RunObject(run, project.backend), parameters=dict(run.spec.parameters)
        )
        self.reserved = {
            "project": project,
            "run": self.context.run,
            "context": self.context,
            "event": None,
            "events": None,
        }
        self.handler = Target(handler) if handler is not None else None
        self.handler_name = getattr(handler, "__name__", repr(handler)) if handler is not None else None
        bound = (
            compose_arguments(
                handler, run.spec.parameters, inputs or {}, {**self.reserved, "event": _EVENT, "events": _EVENT}
            )
            if handler is not None
            else {}
        )
        self._static = {name: value for name, value in bound.items() if value is not _EVENT}
        self._event_names = tuple(name for name, value in bound.items() if value is _EVENT)
        self.init = Target(init_function) if init_function is not None else None
        self.options_model = setup.options if setup is not None else None
        self.model_loader = model_loader
        self.commands = {spec.name: spec for spec in commands or []}
        self._command_targets = {name: Target(spec.func) for name, spec in self.commands.items()}
        self.initialised = asyncio.Event()
        self._init_lock = asyncio.Lock()

    @classmethod
    def from_run(cls, project: Project, run_key: str) -> Service:
        """Fetch and import the run's function code, find its init function and commands, bind the run's arguments.
        A handler that is itself a ``@command`` names the module only: the commands are served, ``/`` is not."""
        prepared = prepare(project, project.backend.store.get_run(run_key))
        return cls.from_namespace(
            project,
            prepared.run,
            _namespace(prepared.handler),
            None if hasattr(prepared.handler, COMMAND_ATTRIBUTE) else prepared.handler,
            prepared.function.spec.init_function,
            prepared.inputs,
        )

    @classmethod
    def from_namespace(
        cls,
        project: Project,
        run: Run,
        namespace: list[Any],
        handler: Callable[..., Any] | None,
        init_function: str | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> Service:
        """Serve ``handler`` with the init function, commands and model loader declared among ``namespace``."""
        init, setup = _init_target(namespace, init_function, getattr(handler, "__name__", "(none)"))
        return cls(
            project,
            run,
            handler,
            init_function=init,
            setup=setup,
            commands=find_commands(namespace),
            inputs=inputs,
            model_loader=find_model_loader(namespace),
        )

    async def initialise(self, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run the init function with the current options updated by ``options``; keep the old state if it fails."""
        async with self._init_lock:
            merged = {**self.context.options, **(options or {})}
            self._refuse_unknown(merged)
            if self.options_model is not None:
                merged = validate(self.options_model, merged, "init options").model_dump(mode="json")
            state = self.context.state
            if self.init is not None:
                kwargs = compose_arguments(self.init.func, merged, {}, self.reserved)
                state = await self.init(kwargs)
            self.context.options, self.context.state = merged, state
            self.initialised.set()
            return merged

    def _refuse_unknown(self, options: Mapping[str, Any]) -> None:
        """A SpecError naming each option the init function does not take (none, without an init function)."""
        if self.options_model is not None:
            known = set(self.options_model.model_fields)
        elif self.init is not None:
            parameters = inspect.signature(self.init.func).parameters.values()
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
                return
            known = {p.name for p in parameters if p.name not in RESERVED}
        else:
            known = set()
        unknown = sorted(set(options) - known)
        if unknown:
            takes = f"the init function takes {', '.join(sorted(known))}" if known else "this service takes no options"
            raise SpecError("init options", [(name, f"unknown option: {takes}") for name in unknown])

    @property
    def ready(self) -> bool:
        """True once the init function has succeeded."""
        return self.initialised.is_set()

    def check_handler(self) -> Target:
        """The handler; 404 naming the commands when only commands are served."""
        if self.handler is None:
            commands = ", ".join(f"POST /{name}" for name in self.commands) or "none"
            raise RequestError(404, f"this service has no handler at /: call its commands ({commands})")
        return self.handler

    async def call_handler(self, event: Event) -> Any:
        """Call the handler for one event; 404 when only commands are served."""
        handler = self.handler or self.check_handler()
        kwargs = dict(self._static)
        for name in self._event_names:
            kwargs[name] = event
        return await handler(kwargs)

    async def call_command(self, name: str, inputs: Mapping[str, Any], event: Event) -> Any:
        """Call a command with its validated inputs as keyword arguments."""
        target = self._command_targets[name]
        kwargs = compose_arguments(target.func, inputs, {}, {**self.reserved, "event": event, "events": event})
        return await target(kwargs)

    def meta(self) -> dict[str, Any]:
        """Options and commands as JSON: what GET /meta answers."""
        return {
            "run": self.run.key,
            "handler": (
                {"name": self.handler_name, "streaming": self.handler.mode == "stream"} if self.handler else None
            ),
            "options": describe_options(self.options_model, self.context.options),
            "commands": [
                spec.describe(self._command_targets[spec.name].mode == "stream") for spec in self.commands.values()
            ],
        }
