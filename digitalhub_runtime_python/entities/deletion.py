"""Deleting entities as DigitalHub does: with ``cascade``, what depends on them goes too.

A function takes its tasks, a task its runs (stopped first), a data entity the files this runtime wrote for it
(those its ``status.files`` lists; data only registered by path is left alone), a project everything in it.
"""

from __future__ import annotations

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.data import Artifact, Dataitem, DataStatus, Model
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import is_final
from digitalhub_runtime_python.models.task import Task
from digitalhub_runtime_python.stores.base import NotFound
from digitalhub_runtime_python.stores.files import file_store_for
from digitalhub_runtime_python.stores.query import Query

PROJECT_CONTENTS: tuple[type[Entity], ...] = (RunModel, Task, Function, Dataitem, Artifact, Model)
"""Every type a project holds, dependents first."""


def _dependents(backend: Backend, entity: Entity) -> list[Entity]:
    """The entities that name ``entity`` and go with it: the tasks of a function version, the runs of a task."""
    if isinstance(entity, Function):
        return list(backend.store.scan(Task, entity.project, Query(function=entity.key)))
    if isinstance(entity, Task):
        return list(backend.store.scan(RunModel, entity.project, Query(task=entity.key)))
    return []


def delete_entity(backend: Backend, entity: Entity, cascade: bool = True) -> None:
    """Delete one entity version; with ``cascade``, its dependents and written files too. A run still going is
    stopped before it is deleted."""
    if cascade:
        for dependent in _dependents(backend, entity):
            delete_entity(backend, dependent, cascade)
    if isinstance(entity, RunModel) and not is_final(entity.status.state):
        Run(entity, backend).stop()
    if cascade and isinstance(entity.status, DataStatus) and entity.status.files:
        file_store_for(entity.spec.path).remove(entity.spec.path)
    try:
        backend.store.delete(entity.key)
    except NotFound:  # deleted meanwhile, e.g. as another entity's dependent
        pass
    if isinstance(entity, RunModel):
        backend.delete_logs(entity)


def delete_project_contents(backend: Backend, project: Project, cascade: bool = True) -> None:
    """Delete every entity of a project, dependents first."""
    for model in PROJECT_CONTENTS:
        for entity in backend.store.list(model, project.name, all_versions=True):
            delete_entity(backend, entity, cascade)
