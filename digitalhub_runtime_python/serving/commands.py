"""Decorators a served module uses: ``@setup`` for its init function, ``@command`` for typed routes.

Both only attach a description to the function; the server finds them in the handler's module. Fields are
given as ``{"name": type}`` (required) or ``{"name": (type, default)}``, or as a pydantic model class.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, create_model

F = TypeVar("F", bound=Callable[..., Any])
Fields = Mapping[str, Any] | type[BaseModel] | None

COMMAND_ATTRIBUTE = "__digitalhub_command__"
SETUP_ATTRIBUTE = "__digitalhub_setup__"
COMMAND_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
# Paths the server owns; a command cannot take them.
RESERVED_ROUTES = frozenset({"healthz", "readyz", "meta", "setup", "jobs", "docs", "redoc", "openapi.json"})


def fields_model(name: str, fields: Fields) -> type[BaseModel] | None:
    """A pydantic model for a fields declaration; None when nothing was declared."""
    if fields is None:
        return None
    if isinstance(fields, type) and issubclass(fields, BaseModel):
        return fields
    if not isinstance(fields, Mapping):
        raise TypeError(f"{name}: declare fields as {{'name': type}} or a pydantic model, not {type(fields).__name__}")
    definitions = {key: value if isinstance(value, tuple) else (value, ...) for key, value in fields.items()}
    return create_model(name, **definitions)  # type: ignore[call-overload]


@dataclass(frozen=True)
class CommandSpec:
    """A typed route: ``POST /<name>`` with validated inputs and, optionally, validated outputs."""

    name: str
    func: Callable[..., Any]
    inputs: type[BaseModel] | None
    outputs: type[BaseModel] | None
    description: str | None


@dataclass(frozen=True)
class SetupSpec:
    """The init function and the options it accepts."""

    func: Callable[..., Any]
    options: type[BaseModel] | None


def command(
    name: str | None = None, *, inputs: Fields = None, outputs: Fields = None, description: str | None = None
) -> Callable[[F], F]:
    """Serve the function as ``POST /<name>`` (default: the function's name with ``_`` kept)."""

    def decorate(func: F) -> F:
        route = name or func.__name__
        if not COMMAND_NAME.match(route) or route in RESERVED_ROUTES:
            raise ValueError(
                f"@command name {route!r} is not usable: use lowercase letters, digits, '_' or '-', "
                f"starting with a letter, and none of {', '.join(sorted(RESERVED_ROUTES))}"
            )
        title = "".join(part.capitalize() for part in re.split(r"[-_]", route))
        spec = CommandSpec(
            route,
            func,
            fields_model(f"{title}Inputs", inputs),
            fields_model(f"{title}Outputs", outputs),
            description if description is not None else (func.__doc__ or "").strip() or None,
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


def find_setup(namespace: Iterable[Any]) -> SetupSpec | None:
    """The one ``@setup`` function among ``namespace``'s values, if any."""
    found = {
        id(spec): spec
        for value in namespace
        if isinstance(spec := getattr(value, SETUP_ATTRIBUTE, None), SetupSpec) and spec.func is value
    }
    if len(found) > 1:
        names = ", ".join(sorted(spec.func.__name__ for spec in found.values()))
        raise ValueError(f"several @setup functions ({names}): keep one")
    return next(iter(found.values()), None)
