"""The SDK's front door: the backend for the configured place, and projects on it with DigitalHub's functions
(``new_/get_/get_or_create_/list_/update_/delete_/load_/import_project``), and this machine's function
environments.

Every function also takes ``backend`` and ``home`` (keyword only) to override ``DIGITALHUB_BACKEND`` and
``DIGITALHUB_HOME``.
"""

from __future__ import annotations

import os
import threading
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.entities import transfer
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.compat import refuse
from digitalhub_runtime_python.entities.deletion import PROJECT_CONTENTS, delete_project_contents
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.environments import cache
from digitalhub_runtime_python.environments.cache import EnvironmentEntry
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.settings import Settings
from digitalhub_runtime_python.stores.base import AlreadyExists, NotFound
from digitalhub_runtime_python.stores.query import Query

_BACKENDS: dict[Settings, Backend] = {}
_LOCK = threading.Lock()
SETUP_MODULE = "setup_project.py"


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


def _opened(project: ProjectModel, backend: Backend, setup_kwargs: dict[str, Any] | None) -> Project:
    """The SDK object of a project; DigitalHub's setup hook is refused, and a hook file found is not run."""
    refuse("project", setup_kwargs=setup_kwargs)
    hook = Path(project.spec.source or ".") / SETUP_MODULE
    if project.spec.source and hook.is_file():
        warnings.warn(f"{hook} is not run by this runtime: call its setup function yourself", stacklevel=3)
    return Project(project, backend)


def get_project(
    name: str,
    setup_kwargs: dict[str, Any] | None = None,
    *,
    backend: str | None = None,
    home: str | Path | None = None,
) -> Project:
    """An existing project; NotFound if there is none."""
    opened = get_backend(backend, home)
    return _opened(opened.store.get(ProjectModel, name, name), opened, setup_kwargs)


def new_project(
    name: str,
    description: str | None = None,
    labels: list[str] | None = None,
    config: dict[str, Any] | None = None,
    source: str | None = None,
    setup_kwargs: dict[str, Any] | None = None,
    *,
    artifact_store: str | None = None,
    backend: str | None = None,
    home: str | Path | None = None,
) -> Project:
    """Create a project; AlreadyExists if there is one. ``source``: its local context folder (where ``export()``
    writes); ``artifact_store``: where its files go (e.g. ``s3://bucket/prefix``)."""
    refuse("project", config=config, setup_kwargs=setup_kwargs)
    spec = {"description": description, "artifact_store": artifact_store, "source": source}
    entity = validate(ProjectModel, {"name": name, "spec": spec, "metadata": {"labels": labels or []}}, "project")
    opened = get_backend(backend, home)
    return _opened(opened.store.create(entity), opened, None)


def get_or_create_project(
    name: str,
    description: str | None = None,
    labels: list[str] | None = None,
    config: dict[str, Any] | None = None,
    context: str | None = None,
    setup_kwargs: dict[str, Any] | None = None,
    *,
    artifact_store: str | None = None,
    backend: str | None = None,
    home: str | Path | None = None,
) -> Project:
    """The project called ``name``, created on first use (``context``: its local folder, see ``new_project``)."""
    refuse("project", config=config, setup_kwargs=setup_kwargs)
    try:
        return get_project(name, backend=backend, home=home)
    except NotFound:
        pass
    try:
        return new_project(
            name, description, labels, source=context, artifact_store=artifact_store, backend=backend, home=home
        )
    except AlreadyExists:  # another process created it meanwhile
        return get_project(name, backend=backend, home=home)


def list_projects(*, backend: str | None = None, home: str | Path | None = None) -> list[Project]:
    """Every project, newest first."""
    opened = get_backend(backend, home)
    return [Project(entity, opened) for entity in opened.store.list_projects()]


def update_project(entity: Project) -> Project:
    """Write back a project's spec (description, artifact_store, source) and metadata."""
    return entity.save(update=True)


def delete_project(
    name: str,
    cascade: bool = True,
    clean_context: bool = True,
    *,
    backend: str | None = None,
    home: str | Path | None = None,
) -> None:
    """Delete a project and, with ``cascade``, everything in it (runs stopped first, files this runtime stored
    removed). Without ``cascade`` a project that still holds entities is refused. No context is kept in memory
    here, so ``clean_context`` has nothing more to clean."""
    opened = get_backend(backend, home)
    project = opened.store.get(ProjectModel, name, name)
    if cascade:
        delete_project_contents(opened, project)
    elif any(opened.store.page(model, name, Query(), limit=1) for model in PROJECT_CONTENTS):
        raise SpecError("project", [("cascade", f"project {name!r} still holds entities: pass cascade=True")])
    opened.store.delete(project.key)


def import_project(
    file: str,
    setup_kwargs: dict[str, Any] | None = None,
    reset_id: bool = False,
    *,
    backend: str | None = None,
    home: str | Path | None = None,
) -> Project:
    """Create the project an exported YAML file describes, with its functions and data entities (every version);
    AlreadyExists if the project exists, unless ``reset_id`` (its entities are then added with new ids)."""
    refuse("project", setup_kwargs=setup_kwargs)
    opened = get_backend(backend, home)
    return Project(transfer.import_project(opened, file, reset_id), opened)


def load_project(
    file: str,
    setup_kwargs: dict[str, Any] | None = None,
    *,
    backend: str | None = None,
    home: str | Path | None = None,
) -> Project:
    """Create or update the project an exported YAML file describes, and its entities."""
    refuse("project", setup_kwargs=setup_kwargs)
    opened = get_backend(backend, home)
    return Project(transfer.load_project(opened, file), opened)


def environments_folder(home: str | Path | None = None) -> Path:
    """Where this machine keeps function environments: ``$DIGITALHUB_ENVS``, else ``$DIGITALHUB_HOME/envs``."""
    return cache.environments_root(Settings.from_env(home=home).home, os.environ)


def list_environments(home: str | Path | None = None) -> list[EnvironmentEntry]:
    """The function environments built on this machine, most recently used first."""
    return cache.list_environments(environments_folder(home))


def prune_environments(
    unused_for: timedelta | None = timedelta(days=7), *, dry_run: bool = False, home: str | Path | None = None
) -> list[EnvironmentEntry]:
    """Remove the environments not used for ``unused_for`` (None: all), except those a run is using or building.

    Returns what was removed (with ``dry_run``: what would be)."""
    return cache.prune_environments(environments_folder(home), unused_for, dry_run)
