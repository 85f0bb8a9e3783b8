"""Base of the objects the SDK hands out: a pydantic entity plus the backend that stores it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar, cast

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.transfer import context_folder, export_entity
from digitalhub_runtime_python.models.base import Entity, Metadata
from digitalhub_runtime_python.models.project import Project

M = TypeVar("M", bound=Entity)


class EntityObject(Generic[M]):
    """An entity the user can act on; attribute access reads the stored model."""

    def __init__(self, entity: M, backend: Backend):
        self.entity = entity
        self._backend = backend

    @property
    def backend(self) -> Backend:
        """The store, launchers and logs behind this object."""
        return self._backend

    key = property(lambda self: self.entity.key)
    id = property(lambda self: self.entity.id)
    name = property(lambda self: self.entity.name)
    kind = property(lambda self: self.entity.kind)
    project = property(lambda self: self.entity.project)

    @property
    def metadata(self) -> Metadata:
        return self.entity.metadata

    @property
    def spec(self) -> Any:
        return self.entity.spec

    @property
    def status(self) -> Any:
        return self.entity.status

    def refresh(self) -> Self:
        """Reload from the store."""
        self.entity = self._backend.store.get_as(type(self.entity), self.key)
        return self

    def _update(self, change: Callable[[M], M]) -> None:
        """Atomically change the stored entity (read, ``change``, write back) and hold the result."""
        self.entity = cast(M, self._backend.store.update(self.key, cast(Callable[[Entity], Entity], change)))

    def export(self) -> str:
        """Write the entity to ``<type>s-<id>.yaml`` in its project's context folder; the file's path."""
        project = self._backend.store.get(Project, self.project, self.project)
        return str(export_entity(self.entity, context_folder(project)))

    def to_dict(self) -> dict[str, Any]:
        """The entity as a JSON-ready dict."""
        return self.entity.document()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"
