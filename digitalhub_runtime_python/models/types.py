"""Every entity type by name (``run``, ``function``...), and the model class for a type name."""

from __future__ import annotations

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.keys import InvalidKey
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Task

ENTITY_TYPES: dict[str, type[Entity]] = {
    cls.ENTITY_TYPE: cls for cls in (Project, Function, Task, Run, Dataitem, Artifact, Model)
}


def entity_class(entity_type: str) -> type[Entity]:
    """The model class for an entity type name."""
    try:
        return ENTITY_TYPES[entity_type]
    except KeyError:
        raise InvalidKey(f"unknown entity type {entity_type!r}: use one of {', '.join(ENTITY_TYPES)}") from None
