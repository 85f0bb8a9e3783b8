"""The SDK's front door: the backend for the configured place, and projects opened on it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.settings import Settings
from digitalhub_runtime_python.stores.base import AlreadyExists, NotFound

_BACKENDS: dict[Settings, Backend] = {}
_LOCK = threading.Lock()


def open_backend(settings: Settings) -> Backend:
    """A new backend for ``settings``: the embedded store, or a Kubernetes namespace."""
    if settings.backend == "local":
        from digitalhub_runtime_python.backends.local import LocalBackend

        return LocalBackend(settings)
    from digitalhub_runtime_python.backends.kubernetes import KubernetesBackend

    return KubernetesBackend(settings)


def get_backend(backend: str | None = None, home: str | Path | None = None) -> Backend:
    """The backend for the settings from the environment (``backend``/``home`` override them), made once, reused."""
    settings = Settings.from_env(backend=backend, home=home)
    with _LOCK:
        found = _BACKENDS.get(settings)
        if found is None:
            found = _BACKENDS[settings] = open_backend(settings)
    return found


def get_project(name: str, *, backend: str | None = None, home: str | Path | None = None) -> Project:
    """An existing project; NotFound if there is none."""
    opened = get_backend(backend, home)
    return Project(opened.store.get(ProjectModel, name, name), opened)


def get_or_create_project(
    name: str, *, backend: str | None = None, home: str | Path | None = None, **spec: Any
) -> Project:
    """The project called ``name``, created on first use. ``spec``: description, artifact_store."""
    opened = get_backend(backend, home)
    try:
        return Project(opened.store.get(ProjectModel, name, name), opened)
    except NotFound:
        pass
    entity = validate(ProjectModel, {"name": name, "spec": spec}, "project")
    try:
        return Project(opened.store.create(entity), opened)
    except AlreadyExists:  # another process created it meanwhile
        return Project(opened.store.get(ProjectModel, name, name), opened)
