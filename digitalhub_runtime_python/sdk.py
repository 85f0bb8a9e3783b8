"""DigitalHub's module-level SDK for functions, tasks, runs, artifacts, dataitems and models, with its names and
argument names: each call opens the entity's project (named by ``project``, or by the key given as
``identifier``) on the configured backend and does what the Project method of the same name does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from digitalhub_runtime_python.api import get_backend, get_project
from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.catalog import Moment
from digitalhub_runtime_python.entities.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.entities.function import Function
from digitalhub_runtime_python.entities.materials import Sources
from digitalhub_runtime_python.entities.project import OBJECTS, Project
from digitalhub_runtime_python.entities.retention import Pruning
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.entities.task import Task
from digitalhub_runtime_python.entities.transfer import import_entity, load_entity, read_entity
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.keys import PREFIX, parse_key
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.models.types import ENTITY_TYPES
from digitalhub_runtime_python.stores.query import Order, Page


def _project(project: str | None, identifier: str | None = None) -> Project:
    """The project named by ``project``, or by ``identifier`` when it is a key (they must agree)."""
    from_key = parse_key(identifier).project if identifier and identifier.startswith(PREFIX) else None
    if project and from_key and project != from_key:
        raise SpecError("identifier", [("project", f"{identifier} belongs to project {from_key!r}, not {project!r}")])
    name = project or from_key
    if not name:
        raise SpecError("identifier", [("project", f"{identifier!r} is a name: give project= too, or a key")])
    return get_project(name)


def _project_of(obj: EntityObject) -> Project:
    """The project an SDK object belongs to, on that object's backend."""
    store = obj.backend.store
    return Project(store.get(ProjectModel, obj.project, obj.project), obj.backend)


def _import(entity_type: str, file: str | None, key: str | None, reset_id: bool, context: str | None) -> Any:
    """Create the entity a YAML file or a key describes, in project ``context`` (else its own project)."""
    entity = read_entity(get_backend(), ENTITY_TYPES[entity_type], file, key, context, reset_id)
    backend = get_project(entity.project).backend  # the project must exist
    return OBJECTS[entity_type](import_entity(backend, entity), backend)


def _load(entity_type: str, file: str) -> Any:
    """Create the entity a YAML file describes, or update the stored one."""
    entity = read_entity(get_backend(), ENTITY_TYPES[entity_type], file)
    backend = get_project(entity.project).backend
    return OBJECTS[entity_type](load_entity(backend, entity), backend)


# Functions


def new_function(
    project: str,
    name: str,
    kind: str = "python",
    uuid: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    embedded: bool = False,
    **kwargs: Any,
) -> Function:
    return get_project(project).new_function(name, kind, uuid, description, labels, embedded, **kwargs)


def get_function(identifier: str, project: str | None = None, entity_id: str | None = None) -> Function:
    return _project(project, identifier).get_function(identifier, entity_id)


def get_function_versions(identifier: str, project: str | None = None) -> list[Function]:
    return _project(project, identifier).get_function_versions(identifier)


def list_functions(project: str, **filters: Any) -> Page[Function]:
    """Filters: q, name, kind, state, created, updated, versions (DigitalHub's), and the ListOptions (since, until,
    labels, limit, order, continuation, count)."""
    return get_project(project).list_functions(**filters)


def import_function(
    file: str | None = None, key: str | None = None, reset_id: bool = False, context: str | None = None
) -> Function:
    return _import("function", file, key, reset_id, context)


def load_function(file: str) -> Function:
    return _load("function", file)


def update_function(entity: Function) -> Function:
    return _project_of(entity).update_function(entity)


def delete_function(
    identifier: str,
    project: str | None = None,
    entity_id: str | None = None,
    delete_all_versions: bool = False,
    cascade: bool = True,
) -> None:
    _project(project, identifier).delete_function(identifier, entity_id, delete_all_versions, cascade)


# Tasks


def new_task(
    project: str,
    kind: str,
    uuid: str | None = None,
    labels: list[str] | None = None,
    function: str | None = None,
    workflow: str | None = None,
    **kwargs: Any,
) -> Task:
    return get_project(project).new_task(kind, uuid, labels, function, workflow, **kwargs)


def get_task(identifier: str, project: str | None = None) -> Task:
    return _project(project, identifier).get_task(identifier)


def list_tasks(project: str, **filters: Any) -> Page[Task]:
    """Filters: q, name, kind, state, created, updated, function, and the ListOptions."""
    return get_project(project).list_tasks(**filters)


def import_task(
    file: str | None = None, key: str | None = None, reset_id: bool = False, context: str | None = None
) -> Task:
    return _import("task", file, key, reset_id, context)


def load_task(file: str) -> Task:
    return _load("task", file)


def update_task(entity: Task) -> Task:
    return _project_of(entity).update_task(entity)


def delete_task(
    identifier: str, project: str | None = None, entity_id: str | None = None, cascade: bool = True
) -> None:
    _project(project, identifier).delete_task(identifier, entity_id, cascade)


# Runs


def new_run(
    project: str,
    kind: str = "python+run",
    uuid: str | None = None,
    labels: list[str] | None = None,
    task: str | None = None,
    **kwargs: Any,
) -> Run:
    return get_project(project).new_run(kind, uuid, labels, task, **kwargs)


def get_run(identifier: str, project: str | None = None) -> Run:
    return _project(project, identifier).get_run(identifier)


def list_runs(project: str, **filters: Any) -> Page[Run]:
    """Filters: q, name, kind, state, created, updated, function, task, action, and the ListOptions: since, until,
    labels; ``limit=N`` for a page of N whose ``continuation`` (passed back as ``continuation=``) asks for the next
    page; ``order``; ``count=True`` for the page's ``total``."""
    return get_project(project).list_runs(**filters)


def iter_runs(
    project: str,
    state: str | None = None,
    function: str | None = None,
    action: str | None = None,
    task: str | None = None,
    *,
    since: Moment | None = None,
    until: Moment | None = None,
    labels: list[str] | str | None = None,
    order: Order = "newest",
) -> Iterator[Run]:
    """Every run the filters select, newest (or oldest) first, read a page at a time as the iteration goes."""
    opened = get_project(project)
    return opened.iter_runs(state, function, action, task, since=since, until=until, labels=labels, order=order)


def prune_runs(
    project: str,
    older_than: Moment | None = None,
    keep_last: int | None = None,
    state: str | None = None,
    function: str | None = None,
    outputs: bool = False,
    dry_run: bool = True,
) -> Pruning:
    """Delete old finished runs with their logs (a dry run by default): see ``Project.prune_runs``."""
    return get_project(project).prune_runs(older_than, keep_last, state, function, outputs, dry_run)


def import_run(
    file: str | None = None, key: str | None = None, reset_id: bool = False, context: str | None = None
) -> Run:
    return _import("run", file, key, reset_id, context)


def load_run(file: str) -> Run:
    return _load("run", file)


def update_run(entity: Run) -> Run:
    return _project_of(entity).update_run(entity)


def delete_run(identifier: str, project: str | None = None, entity_id: str | None = None) -> None:
    _project(project, identifier).delete_run(identifier, entity_id)


# Artifacts


def new_artifact(
    project: str,
    name: str,
    kind: str = "artifact",
    uuid: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    embedded: bool = False,
    path: str | None = None,
    extensions: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Artifact:
    opened = get_project(project)
    return opened.new_artifact(name, kind, uuid, description, labels, embedded, path, extensions, **kwargs)


def log_artifact(
    project: str,
    name: str,
    kind: str = "artifact",
    source: Sources | None = None,
    drop_existing: bool = False,
    path: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    **kwargs: Any,
) -> Artifact:
    return get_project(project).log_artifact(name, kind, source, drop_existing, path, description, labels, **kwargs)


def get_artifact(identifier: str, project: str | None = None, entity_id: str | None = None) -> Artifact:
    return _project(project, identifier).get_artifact(identifier, entity_id)


def get_artifact_versions(identifier: str, project: str | None = None) -> list[Artifact]:
    return _project(project, identifier).get_artifact_versions(identifier)


def list_artifacts(project: str, **filters: Any) -> Page[Artifact]:
    """Filters: q, name, kind, state, created, updated, versions, and the ListOptions."""
    return get_project(project).list_artifacts(**filters)


def import_artifact(
    file: str | None = None, key: str | None = None, reset_id: bool = False, context: str | None = None
) -> Artifact:
    return _import("artifact", file, key, reset_id, context)


def load_artifact(file: str) -> Artifact:
    return _load("artifact", file)


def update_artifact(entity: Artifact) -> Artifact:
    return _project_of(entity).update_artifact(entity)


def delete_artifact(
    identifier: str,
    project: str | None = None,
    entity_id: str | None = None,
    delete_all_versions: bool = False,
    cascade: bool = True,
) -> None:
    _project(project, identifier).delete_artifact(identifier, entity_id, delete_all_versions, cascade)


# Dataitems


def new_dataitem(
    project: str,
    name: str,
    kind: str = "table",
    uuid: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    embedded: bool = False,
    path: str | None = None,
    extensions: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Dataitem:
    opened = get_project(project)
    return opened.new_dataitem(name, kind, uuid, description, labels, embedded, path, extensions, **kwargs)


def log_dataitem(
    project: str,
    name: str,
    kind: str = "table",
    source: Sources | None = None,
    data: Any = None,
    drop_existing: bool = False,
    path: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    file_format: str | None = None,
    read_df_params: dict[str, Any] | None = None,
    engine: str | None = "pandas",
    **kwargs: Any,
) -> Dataitem:
    return get_project(project).log_dataitem(
        name,
        kind,
        source,
        data,
        drop_existing,
        description,
        labels,
        path=path,
        file_format=file_format,
        read_df_params=read_df_params,
        engine=engine,
        **kwargs,
    )


def log_table(
    project: str,
    name: str,
    source: Sources | None = None,
    data: Any = None,
    sql: str | None = None,
    drop_existing: bool = False,
    path: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    file_format: str | None = None,
    read_df_params: dict[str, Any] | None = None,
    engine: str | None = "pandas",
    **kwargs: Any,
) -> Dataitem:
    return get_project(project).log_table(
        name, source, data, sql, drop_existing, path, description, labels, file_format, read_df_params, engine, **kwargs
    )


def get_dataitem(identifier: str, project: str | None = None, entity_id: str | None = None) -> Dataitem:
    return _project(project, identifier).get_dataitem(identifier, entity_id)


def get_dataitem_versions(identifier: str, project: str | None = None) -> list[Dataitem]:
    return _project(project, identifier).get_dataitem_versions(identifier)


def list_dataitems(project: str, **filters: Any) -> Page[Dataitem]:
    """Filters: q, name, kind, state, created, updated, versions, and the ListOptions."""
    return get_project(project).list_dataitems(**filters)


def import_dataitem(
    file: str | None = None, key: str | None = None, reset_id: bool = False, context: str | None = None
) -> Dataitem:
    return _import("dataitem", file, key, reset_id, context)


def load_dataitem(file: str) -> Dataitem:
    return _load("dataitem", file)


def update_dataitem(entity: Dataitem) -> Dataitem:
    return _project_of(entity).update_dataitem(entity)


def delete_dataitem(
    identifier: str,
    project: str | None = None,
    entity_id: str | None = None,
    delete_all_versions: bool = False,
    cascade: bool = True,
) -> None:
    _project(project, identifier).delete_dataitem(identifier, entity_id, delete_all_versions, cascade)


# Models


def new_model(
    project: str,
    name: str,
    kind: str = "model",
    uuid: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    embedded: bool = False,
    path: str | None = None,
    extensions: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Model:
    return get_project(project).new_model(name, kind, uuid, description, labels, embedded, path, extensions, **kwargs)


def log_model(
    project: str,
    name: str,
    kind: str = "model",
    source: Sources | None = None,
    drop_existing: bool = False,
    path: str | None = None,
    **kwargs: Any,
) -> Model:
    return get_project(project).log_model(name, kind, source, drop_existing, path, **kwargs)


def get_model(identifier: str, project: str | None = None, entity_id: str | None = None) -> Model:
    return _project(project, identifier).get_model(identifier, entity_id)


def get_model_versions(identifier: str, project: str | None = None) -> list[Model]:
    return _project(project, identifier).get_model_versions(identifier)


def list_models(project: str, **filters: Any) -> Page[Model]:
    """Filters: q, name, kind, state, created, updated, versions, and the ListOptions."""
    return get_project(project).list_models(**filters)


def import_model(
    file: str | None = None, key: str | None = None, reset_id: bool = False, context: str | None = None
) -> Model:
    return _import("model", file, key, reset_id, context)


def load_model(file: str) -> Model:
    return _load("model", file)


def update_model(entity: Model) -> Model:
    return _project_of(entity).update_model(entity)


def delete_model(
    identifier: str,
    project: str | None = None,
    entity_id: str | None = None,
    delete_all_versions: bool = False,
    cascade: bool = True,
) -> None:
    _project(project, identifier).delete_model(identifier, entity_id, delete_all_versions, cascade)
