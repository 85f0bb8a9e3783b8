"""FastAPI endpoints that take a command's inputs as their JSON body, so OpenAPI documents them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Body, Request

from digitalhub_runtime_python.serving.commands import CommandSpec


def with_inputs_body(endpoint: Callable[..., Any], spec: CommandSpec) -> Callable[..., Any]:
    """Give ``endpoint(request, inputs)`` the signature FastAPI reads: ``inputs`` is the command's inputs model as
    the required body, or any optional JSON when the command declares none."""
    body = spec.inputs if spec.inputs is not None else Annotated[dict[str, Any] | None, Body()]
    signature = inspect.Signature(
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            inspect.Parameter(
                "inputs",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=body,
                default=inspect.Parameter.empty if spec.inputs is not None else None,
            ),
        ]
    )
    setattr(endpoint, "__signature__", signature)  # noqa: B010 (functions have no declared __signature__)
    return endpoint
