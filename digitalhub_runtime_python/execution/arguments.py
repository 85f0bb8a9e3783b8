"""Compose a handler's keyword arguments from reserved objects, input entities and parameters."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

RESERVED = ("project", "run", "context", "event", "events")


class ArgumentError(ValueError):
    """The run's inputs and parameters do not fit the handler's signature."""


def compose_arguments(
    func: Callable[..., Any],
    parameters: Mapping[str, Any],
    inputs: Mapping[str, Any],
    reserved: Mapping[str, Any],
) -> dict[str, Any]:
    """Keyword arguments for ``func``.

    Rules: a reserved name (project, run, context, event, events) gets the runtime's object (event/events: the request,
    for served functions; None in jobs); a name mapped in ``inputs`` gets the entity; any other name comes from
    ``parameters``, else its default; a required argument with no value is an error. Extra parameters go to
    ``**kwargs`` if the handler has one, else they are an error.
    """
    clash = sorted(set(parameters) & set(RESERVED))
    if clash:
        raise ArgumentError(f"parameters {clash} are reserved names: rename the handler's argument and the parameter")
    both = sorted(set(parameters) & set(inputs))
    if both:
        raise ArgumentError(f"{both} given both as input and as parameter: keep one")
    signature = inspect.signature(func)
    kwargs: dict[str, Any] = {}
    accepts_extra = False
    missing = []
    for name, param in signature.parameters.items():
        if param.kind is param.VAR_KEYWORD:
            accepts_extra = True
        elif param.kind is param.VAR_POSITIONAL:
            continue
        elif param.kind is param.POSITIONAL_ONLY:
            raise ArgumentError(f"argument {name!r} is positional-only: the runtime passes arguments by name")
        elif name in RESERVED:
            kwargs[name] = reserved.get(name)
        elif name in inputs:
            kwargs[name] = inputs[name]
        elif name in parameters:
            kwargs[name] = parameters[name]
        elif param.default is param.empty:
            missing.append(name)
    extra = [name for name in (*inputs, *parameters) if name not in kwargs]
    unknown = [] if accepts_extra else extra
    if missing or unknown:
        variadic = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        free = [
            name for name, param in signature.parameters.items() if name not in kwargs and param.kind not in variadic
        ]
        raise ArgumentError(_mismatch(missing, unknown, extra, free))
    for name in extra:
        kwargs[name] = inputs[name] if name in inputs else parameters[name]
    return kwargs


def _mismatch(missing: list[str], unknown: list[str], unmatched: list[str], free: list[str]) -> str:
    """Name what is missing and what is unknown; suggest, for each unmatched name, a close argument still free."""
    problems = []
    if unknown:
        problems.append(f"handler has no argument(s) {', '.join(map(repr, unknown))}")
    if missing:
        problems.append(f"missing required argument(s) {', '.join(map(repr, missing))}")
    guesses = [
        f"{match[0]!r} instead of {name!r}" for name in unmatched if (match := difflib.get_close_matches(name, free, 1))
    ]
    if guesses:
        fix = f"did you mean {', '.join(guesses)}?"
    elif missing and unknown:
        fix = "pass each argument by its name in parameters or inputs"
    elif missing:
        fix = "pass them in parameters or inputs"
    else:
        fix = "remove them or add them to its signature"
    return f"{'; '.join(problems)}: {fix}"
