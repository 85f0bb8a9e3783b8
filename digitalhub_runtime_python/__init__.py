"""digitalhub-runtime-python: run plain Python functions as jobs, services and images, locally or on Kubernetes.

The public names below load on first use, so ``import digitalhub_runtime_python`` (and every pod's start) stays
cheap; everything else is imported by its full module path.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC = {
    "Artifact": "digitalhub_runtime_python.entities.data",
    "Dataitem": "digitalhub_runtime_python.entities.data",
    "Model": "digitalhub_runtime_python.entities.data",
    "Function": "digitalhub_runtime_python.entities.function",
    "Project": "digitalhub_runtime_python.entities.project",
    "Run": "digitalhub_runtime_python.entities.run",
    "SpecError": "digitalhub_runtime_python.models.errors",
    "State": "digitalhub_runtime_python.models.states",
    "command": "digitalhub_runtime_python.serving.commands",
    "setup": "digitalhub_runtime_python.serving.commands",
    "handler": "digitalhub_runtime_python.execution.handler",
    "get_backend": "digitalhub_runtime_python.api",
    "get_or_create_project": "digitalhub_runtime_python.api",
    "get_project": "digitalhub_runtime_python.api",
    "serve": "digitalhub_runtime_python.entrypoints.module",
}

__all__ = [
    "Artifact",
    "Dataitem",
    "Function",
    "Model",
    "Project",
    "Run",
    "SpecError",
    "State",
    "command",
    "get_backend",
    "get_or_create_project",
    "get_project",
    "handler",
    "serve",
    "setup",
]

if TYPE_CHECKING:
    from digitalhub_runtime_python.api import get_backend, get_or_create_project, get_project
    from digitalhub_runtime_python.entities.data import Artifact, Dataitem, Model
    from digitalhub_runtime_python.entities.function import Function
    from digitalhub_runtime_python.entities.project import Project
    from digitalhub_runtime_python.entities.run import Run
    from digitalhub_runtime_python.entrypoints.module import serve
    from digitalhub_runtime_python.execution.handler import handler
    from digitalhub_runtime_python.models.errors import SpecError
    from digitalhub_runtime_python.models.states import State
    from digitalhub_runtime_python.serving.commands import command, setup


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
