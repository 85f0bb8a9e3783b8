"""Readable validation errors: every message names the field and says what to do."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

M = TypeVar("M", bound=BaseModel)


class SpecError(ValueError):
    """Invalid user input for an entity; ``fields`` lists the offending field paths."""

    def __init__(self, what: str, problems: list[tuple[str, str]]):
        self.what = what
        self.fields = [field for field, _ in problems]
        lines = [f"  - {field}: {message}" if field else f"  - {message}" for field, message in problems]
        super().__init__(f"invalid {what}:\n" + "\n".join(lines))


def _describe(error: ErrorDetails) -> tuple[str, str]:
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return field, "unknown field: remove it or check its spelling"
    if kind == "missing":
        return field, "required field is missing"
    message = error["msg"].removeprefix("Value error, ")
    return field, message


def format_validation_error(what: str, error: ValidationError) -> SpecError:
    """Turn a pydantic error into a SpecError naming each field."""
    return SpecError(what, [_describe(e) for e in error.errors()])


def validate(model: type[M], data: Any, what: str | None = None) -> M:
    """Validate ``data`` as ``model``; raise SpecError naming the fields on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(what or model.__name__, exc) from None
