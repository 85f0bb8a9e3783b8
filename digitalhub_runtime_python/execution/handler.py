"""The ``@handler`` decorator: names what a function returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
OUTPUTS_ATTRIBUTE = "__digitalhub_outputs__"


def handler(outputs: list[str] | None = None) -> Callable[[F], F]:
    """Declare output names: ``@handler(outputs=["model", "score"])`` names a returned tuple's items."""
    names = list(outputs or [])
    if len(set(names)) != len(names):
        raise ValueError(f"@handler outputs {names} repeat a name: give each output its own name")

    def decorate(func: F) -> F:
        setattr(func, OUTPUTS_ATTRIBUTE, names)
        return func

    return decorate


def declared_outputs(func: Callable[..., Any]) -> list[str] | None:
    """Output names given by ``@handler``, or None for an undecorated function."""
    return getattr(func, OUTPUTS_ATTRIBUTE, None)
