"""Base of the objects the SDK hands out: a pydantic entity plus the client that stores it."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from ..models import Entity, Metadata
from .client import Client

M = TypeVar("M", bound=Entity)


class EntityObject(Generic[M]):
    """An entity the user can act on; attribute access reads the stored model."""

    def __init__(self, entity: M, client: Client):
        self.entity = entity
        self._client = client

    @property
    def client(self) -> Client:
        """The store and launchers behind this object."""
        return self._client

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

    def refresh(self) -> EntityObject[M]:
        """Reload from the store."""
        self.entity = self._client.store.get_key(self.key)  # type: ignore[assignment]
        return self

    def to_dict(self) -> dict[str, Any]:
        """The entity as a JSON-ready dict."""
        return self.entity.document()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"
