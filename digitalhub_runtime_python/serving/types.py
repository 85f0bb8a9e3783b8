"""Data types for ``@command`` inputs and outputs and ``@setup`` options, with the constraints a UI needs.

Each function returns a pydantic type (``Annotated`` with validators and schema), used where a plain type goes:
``inputs={"z": vector(length=512), "size": number(min=0, max=4, default=1)}``. A value that breaks a constraint
is refused naming the input; the constraints appear in ``/meta`` and OpenAPI (standard JSON Schema keywords, and
``x-data-type`` plus ``x-...`` for the rest). A ``default`` makes the field optional.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, Strict, WithJsonSchema
from pydantic_core import PydanticUndefined

from digitalhub_runtime_python.serving.media import (
    MODES,
    FileData,
    encode_file,
    encode_image,
    image_to_array,
    is_array,
    to_file,
    to_image,
)

IMAGE_FORMATS = ("png", "jpeg", "webp")

__all__ = ["FileData", "array", "boolean", "category", "file", "image", "number", "text", "vector"]


def _field(data_type: str, default: Any, description: str | None, **extra: Any) -> Any:
    """The Field carrying a type's default, description and ``x-`` schema keywords (None values left out)."""
    schema = {"x-data-type": data_type, **{f"x-{k.replace('_', '-')}": v for k, v in extra.items() if v is not None}}
    return Field(
        default=PydanticUndefined if default is None else default, description=description, json_schema_extra=schema
    )


def _encoded_in_json(encode: Callable[[Any], str]) -> PlainSerializer:
    """JSON output encodes the value (a data URI); Python output (what user code gets) keeps the object."""
    return PlainSerializer(encode, return_type=str, when_used="json")


def text(
    *, default: str | None = None, min_length: int = 0, max_length: int | None = None, description: str | None = None
) -> Any:
    """A string of ``min_length`` to ``max_length`` characters."""
    return Annotated[
        str,
        Strict(),
        Field(min_length=min_length or None, max_length=max_length),
        _field("text", default, description),
    ]


def number(
    *,
    min: float | None = None,
    max: float | None = None,
    step: float | None = None,
    default: float | None = None,
    description: str | None = None,
) -> Any:
    """A number in ``[min, max]``; with ``step``, ``min`` (or 0) plus a whole number of steps. Integers when
    ``step`` is an int and ``min`` and ``default`` are ints or absent, else floats."""
    if step is not None and step <= 0:
        raise ValueError(f"number(step={step}): the step must be positive")
    if min is not None and max is not None and min > max:
        raise ValueError(f"number(min={min}, max={max}): min is above max")
    whole = isinstance(step, int) and all(v is None or isinstance(v, int) for v in (min, default))
    base = min if min is not None else 0

    def on_step(value: float) -> float:
        if step is not None:
            steps = (value - base) / step
            if not math.isclose(steps, round(steps), rel_tol=0, abs_tol=1e-9):
                raise ValueError(f"{value} is not {base} plus a multiple of the step {step}")
        return value

    return Annotated[
        int if whole else float,
        Field(ge=min, le=max),
        AfterValidator(on_step),
        _field("number", default, description, step=step),
    ]


def boolean(*, default: bool | None = None, description: str | None = None) -> Any:
    """true or false (no strings or numbers standing for them)."""
    return Annotated[bool, Strict(), _field("boolean", default, description)]


def category(choices: Sequence[str | int], *, default: str | int | None = None, description: str | None = None) -> Any:
    """One of ``choices`` (strings or integers)."""
    options = tuple(choices)
    if not options or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in options):
        raise ValueError(f"category(choices={list(options)}): give at least one choice, each a string or an integer")
    if default is not None and default not in options:
        raise ValueError(f"category default {default!r} is not one of the choices {list(options)}")
    return Annotated[Literal[options], _field("category", default, description)]


def _as_list(value: Any) -> Any:
    return value.tolist() if is_array(value) else value


def vector(
    length: int,
    *,
    sampling_std: float | None = 1.0,
    default: Sequence[float] | None = None,
    description: str | None = None,
) -> Any:
    """``length`` floats (a list; numpy arrays accepted). Left out, it is drawn from a normal distribution with
    standard deviation ``sampling_std`` (a latent vector); ``sampling_std=None`` makes it required instead."""
    if length < 1:
        raise ValueError(f"vector(length={length}): the length must be at least 1")
    if default is not None and len(default) != length:
        raise ValueError(f"vector default has {len(default)} numbers, not {length}")
    std = sampling_std

    def sample() -> list[float]:
        return [random.gauss(0.0, std or 0.0) for _ in range(length)]

    if default is not None:
        field = _field("vector", list(default), description, length=length, sampling_std=std)
    elif std is not None:
        field = Field(
            default_factory=sample,
            description=description,
            json_schema_extra={"x-data-type": "vector", "x-length": length, "x-sampling-std": std},
        )
    else:
        field = _field("vector", None, description, length=length)
    return Annotated[list[float], BeforeValidator(_as_list), Field(min_length=length, max_length=length), field]


def image(
    *,
    width: int | None = None,
    height: int | None = None,
    channels: int | None = 3,
    format: str = "png",
    array: bool = False,
    description: str | None = None,
) -> Any:
    """An image carried as a data URI (bare base64 accepted). User code gets a Pillow image (a numpy array with
    ``array=True``), converted to ``channels`` (1, 3, 4; None keeps it), and may return either; a declared
    ``width``/``height`` must match. Returned images are encoded in ``format`` (png, jpeg, webp)."""
    if channels is not None and channels not in MODES:
        raise ValueError(f"image(channels={channels}): use 1 (grey), 3 (RGB), 4 (RGBA) or None")
    if format not in IMAGE_FORMATS:
        raise ValueError(f"image(format={format!r}): use one of {', '.join(IMAGE_FORMATS)}")

    def decode(value: Any) -> Any:
        decoded = to_image(value, width, height, channels)
        return image_to_array(decoded) if array else decoded

    schema = {
        "type": "string",
        "contentEncoding": "base64",
        "contentMediaType": "image/*",
        "format": "data-url",
        "x-data-type": "image",
        **{f"x-{k}": v for k, v in (("width", width), ("height", height), ("channels", channels)) if v is not None},
        **({"description": description} if description else {}),
    }
    return Annotated[
        Any,
        BeforeValidator(decode),
        _encoded_in_json(lambda value: encode_image(value, format)),
        WithJsonSchema(schema),
    ]


def file(*, extensions: Sequence[str] | None = None, description: str | None = None) -> Any:
    """A file carried as a data URI (``data:<media type>;name=<file name>;base64,...``). User code gets a
    ``FileData`` (``data``, ``name``, ``media_type``, ``save(folder)``) and may return one, bytes or a path;
    with ``extensions`` (``[".csv", ".txt"]``) its name's extension, else its media type's, must be one of them."""
    allowed = [e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions or ()]
    schema = {
        "type": "string",
        "contentEncoding": "base64",
        "format": "data-url",
        "x-data-type": "file",
        **({"x-extensions": allowed} if allowed else {}),
        **({"description": description} if description else {}),
    }
    return Annotated[
        Any,
        BeforeValidator(lambda value: to_file(value, allowed)),
        _encoded_in_json(encode_file),
        WithJsonSchema(schema),
    ]


def array(
    item_type: Any,
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    default: Sequence[Any] | None = None,
    description: str | None = None,
) -> Any:
    """A list of ``item_type`` (a type above or any pydantic type), ``min_length`` to ``max_length`` long."""
    if isinstance(item_type, tuple):  # a (type, default) field declaration: its type
        item_type = item_type[0]
    return Annotated[
        list[item_type],
        Field(min_length=min_length, max_length=max_length),
        _field("array", None if default is None else list(default), description),
    ]
