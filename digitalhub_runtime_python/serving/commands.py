"""Decorators a served module uses: ``@setup`` for its init function, ``@command`` for typed routes,
``@model_loader`` for loading deployed models.

They only attach a description to the function; the server finds them in the handler's module. Fields are
given as ``{"name": type}`` (required unless the type carries a default, as the data types in
``serving/types.py`` may) or ``{"name": (type, default)}``, or as a pydantic model class.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, Field, create_model

from digitalhub_runtime_python.models.base import NAME_PATTERN

F = TypeVar("F", bound=Callable[..., Any])
Fields = Mapping[str, Any] | type[BaseModel] | None

COMMAND_ATTRIBUTE = "__digitalhub_command__"
SETUP_ATTRIBUTE = "__digitalhub_setup__"
LOADER_ATTRIBUTE = "__digitalhub_model_loader__"
COMMAND_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
# Paths the server owns; a command cannot take them.
RESERVED_ROUTES = frozenset(
    {"healthz", "readyz", "meta", "setup", "jobs", "requests", "models", "info", "docs", "redoc", "openapi.json"}
)


def fields_model(name: str, fields: Fields) -> type[BaseModel] | None:
    """A pydantic model for a fields declaration; None when nothing was declared."""
    if fields is None:
        return None
    if isinstance(fields, type) and issubclass(fields, BaseModel):
        return fields
    if not isinstance(fields, Mapping):
        raise TypeError(f"{name}: declare fields as {{'name': type}} or a pydantic model, not {type(fields).__name__}")
    # Field(): required, unless the type's own Field (a data type's) gives a default
    definitions = {key: value if isinstance(value, tuple) else (value, Field()) for key, value in fields.items()}
    return create_model(name, **definitions)  # type: ignore[call-overload]


@dataclass(frozen=True)
class CommandSpec:
    """A typed route: ``POST /<name>`` with validated inputs and, optionally, validated outputs. A training
    command runs as a job and its return value is logged as the Model ``model_name``."""

    name: str
    func: Callable[..., Any]
    inputs: type[BaseModel] | None
    outputs: type[BaseModel] | None
    description: str | None
    training: bool = False
    model_name: str | None = None

    def describe(self, streaming: bool) -> dict[str, Any]:
        """The command as ``/meta`` lists it."""
        return {
            "name": self.name,
            "path": f"/{self.name}",
            "description": self.description,
            "streaming": streaming,
            "training": self.training,
            "inputs": self.inputs.model_json_schema() if self.inputs else None,
            "outputs": self.outputs.model_json_schema() if self.outputs else None,
        }


@dataclass(frozen=True)
class SetupSpec:
    """The init function and the options it accepts."""

    func: Callable[..., Any]
    options: type[BaseModel] | None


def describe_options(options: type[BaseModel] | None, values: dict[str, Any]) -> dict[str, Any]:
    """The init options as ``/meta`` lists them: their schema and the values in force."""
    return {"schema": options.model_json_schema() if options else None, "values": values}


def command(
    name: str | None = None,
    *,
    inputs: Fields = None,
    outputs: Fields = None,
    description: str | None = None,
    training: bool = False,
    model_name: str | None = None,
) -> Callable[[F], F]:
    """Serve the function as ``POST /<name>`` (default: the function's name with ``_`` kept). With
    ``training=True`` a call starts a background job whose return value (a path, or any object, pickled) is
    logged as the Model ``model_name`` (default: the command's name)."""

    def decorate(func: F) -> F:
        route = name or func.__name__
        if not COMMAND_NAME.match(route) or route in RESERVED_ROUTES:
            raise ValueError(
                f"@command name {route!r} is not usable: use lowercase letters, digits, '_' or '-', "
                f"starting with a letter, and none of {', '.join(sorted(RESERVED_ROUTES))}"
            )
        if training and (inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)):
            raise ValueError(f"@command {route!r}: a training command returns its model; it cannot be a generator")
        if model_name is not None and not training:
            raise ValueError(f"@command {route!r}: model_name is for training commands: add training=True")
        if model_name is not None and not re.match(NAME_PATTERN, model_name):
            raise ValueError(f"@command {route!r}: model_name {model_name!r} is not an entity name ({NAME_PATTERN})")
        title = "".join(part.capitalize() for part in re.split(r"[-_]", route))
        spec = CommandSpec(
            route,
            func,
            fields_model(f"{title}Inputs", inputs),
            fields_model(f"{title}Outputs", outputs),
            description if description is not None else (func.__doc__ or "").strip() or None,
            training,
            (model_name or route) if training else None,
        )
        setattr(func, COMMAND_ATTRIBUTE, spec)
        return func

    return decorate


def setup(func: F | None = None, *, options: Fields = None) -> Any:
    """Mark the init function: run once at start and again on ``POST /setup``; ``options`` declares its options."""

    def decorate(target: F) -> F:
        setattr(target, SETUP_ATTRIBUTE, SetupSpec(target, fields_model("SetupOptions", options)))
        return target

    return decorate(func) if func is not None else decorate


def find_commands(namespace: Iterable[Any]) -> list[CommandSpec]:
    """Commands declared among ``namespace``'s values, once each, in declaration order; duplicate names refused."""
    specs: dict[str, CommandSpec] = {}
    for value in namespace:
        spec = getattr(value, COMMAND_ATTRIBUTE, None)
        if not isinstance(spec, CommandSpec) or spec.func is not value:
            continue
        if spec.name in specs and specs[spec.name].func is not value:
            raise ValueError(f"two functions declare @command {spec.name!r}: give one of them another name")
        specs[spec.name] = spec
    return list(specs.values())


def model_loader(func: F) -> F:
    """Mark the function that loads a deployed model: ``func(path, model)`` gets the local copy of the Model
    entity's files and the entity, and returns what handlers find in ``context.models[name].value``."""
    setattr(func, LOADER_ATTRIBUTE, True)
    return func


def _find_one(namespace: Iterable[Any], marked: Callable[[Any], bool], decorator: str) -> Any:
    """The one function of ``namespace`` that ``marked`` says carries ``decorator``, if any; two are refused."""
    found = {id(value): value for value in namespace if marked(value)}
    if len(found) > 1:
        names = ", ".join(sorted(func.__name__ for func in found.values()))
        raise ValueError(f"several {decorator} functions ({names}): keep one")
    return next(iter(found.values()), None)


def find_setup(namespace: Iterable[Any]) -> SetupSpec | None:
    """The one ``@setup`` function among ``namespace``'s values, if any."""
    func = _find_one(
        namespace,
        lambda value: isinstance(spec := getattr(value, SETUP_ATTRIBUTE, None), SetupSpec) and spec.func is value,
        "@setup",
    )
    return getattr(func, SETUP_ATTRIBUTE) if func is not None else None


def find_model_loader(namespace: Iterable[Any]) -> Callable[..., Any] | None:
    """The one ``@model_loader`` function among ``namespace``'s values, if any."""
    return _find_one(namespace, lambda value: getattr(value, LOADER_ATTRIBUTE, None) is True, "@model_loader")
