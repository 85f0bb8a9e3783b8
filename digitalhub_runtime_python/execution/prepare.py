"""The step every run takes before its handler is called: fetch the code, import the handler, fetch the inputs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.execution.arguments import ArgumentError
from digitalhub_runtime_python.execution.environment import environment_warnings
from digitalhub_runtime_python.execution.loader import HandlerError, load_handler
from digitalhub_runtime_python.execution.outputs import OutputError
from digitalhub_runtime_python.extras import MissingExtra
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.sources.base import CodeTree, SourceError
from digitalhub_runtime_python.sources.materialize import materialize
from digitalhub_runtime_python.stores.base import NotFound


class InputError(LookupError):
    """An input key names no stored entity."""


SPEC_PROBLEMS = (ArgumentError, HandlerError, InputError, MissingExtra, OutputError, SourceError)
"""Problems the runtime detects in the run's own spec (or a missing extra): their message says it all, a traceback
would only show the runtime's internals."""


@dataclass(frozen=True)
class Prepared:
    """A run ready to call its handler: the function, its fetched code, the handler and the input entities."""

    run: Run
    function: Function
    tree: CodeTree
    handler: Callable[..., Any]
    inputs: dict[str, Any]


def fetch_inputs(project: Project, inputs: dict[str, str]) -> dict[str, Any]:
    """The entity objects a run's ``inputs`` name, by argument."""
    objects = {}
    for argument, key in inputs.items():
        try:
            objects[argument] = project.get_entity(key)
        except NotFound as exc:
            raise InputError(f"input {argument!r}: {exc}; log the entity first or fix the key") from None
    return objects


def _isolation(run: Run) -> str | None:
    """How a run executes, for environment warnings: None in a pod; a local server is always a child process."""
    if not run.spec.local_execution:
        return None
    return run.spec.isolation if run.spec.action == Action.JOB else "subprocess"


def prepare(project: Project, run: Run) -> Prepared:
    """Fetch the run's function code, import its handler and fetch its inputs; environment warnings go to stderr."""
    backend = project.backend
    function = backend.store.get_as(Function, run.spec.function)
    for warning in environment_warnings(function.spec, _isolation(run)):
        print(f"warning: {warning}", file=sys.stderr)
    tree = materialize(function.spec, backend.settings.home / "cache")
    handler = load_handler(tree, function.spec.handler)
    return Prepared(run, function, tree, handler, fetch_inputs(project, run.spec.inputs))
