"""The entities of one type in one project, as SDK objects: found by name, key or id, listed with DigitalHub's
filters, their metadata updated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.compat import refuse
from digitalhub_runtime_python.entities.transfer import metadata_from
from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.keys import PREFIX, parse_key
from digitalhub_runtime_python.stores.base import NotFound

T = TypeVar("T", bound=EntityObject)
Filter = Callable[[Entity], bool]


def _interval(argument: str, value: str) -> tuple[datetime, datetime | None]:
    """``start`` or ``start,end`` as ISO 8601 times with an offset (DigitalHub's date filters)."""
    parts = value.split(",")
    try:
        times = [datetime.fromisoformat(part.strip()) for part in parts]
    except ValueError:
        times = []
    if len(parts) > 2 or not times or any(t.tzinfo is None for t in times):
        raise SpecError(
            "filter",
            [(argument, f"{value!r} is not START or START,END in ISO 8601 with an offset, e.g. 2025-01-31T00:00:00Z")],
        )
    return times[0], times[1] if len(times) == 2 else None


def _between(argument: str, value: str, read: Callable[[Entity], datetime]) -> Filter:
    start, end = _interval(argument, value)
    return lambda entity: read(entity) > start and (end is None or read(entity) < end)


def _state(entity: Entity) -> str | None:
    state = getattr(entity.status, "state", None)
    return getattr(state, "value", state)


class Catalog(Generic[T]):
    """Entities of ``model`` in ``project``, handed out as ``cls`` objects."""

    def __init__(self, backend: Backend, project: str, model: type[Entity], cls: type[T]):
        self.backend = backend
        self.project = project
        self.model = model
        self.cls = cls

    @property
    def what(self) -> str:
        return self.model.ENTITY_TYPE

    def wrap(self, entity: Entity) -> T:
        return self.cls(entity, self.backend)

    def _parse(self, identifier: str) -> tuple[str, str | None]:
        """Name and id from a key of this type and project, or the identifier as a name."""
        if not isinstance(identifier, str) or not identifier:
            raise SpecError(self.what, [("identifier", f"{identifier!r}: give a name or a store:// key")])
        if not identifier.startswith(PREFIX):
            return identifier, None
        parsed = parse_key(identifier)
        if parsed.entity_type != self.what:
            raise NotFound(f"{identifier} is a {parsed.entity_type} key, not a {self.what} key")
        if parsed.project != self.project:
            raise NotFound(f"{identifier} belongs to project {parsed.project!r}, not {self.project!r}")
        return parsed.name, parsed.id

    def get(self, identifier: str, entity_id: str | None = None) -> T:
        """By key, by name (``entity_id``: that version, else the latest) or, for runs and tasks, by id."""
        name, id_ = self._parse(identifier)
        try:
            return self.wrap(self.backend.store.get(self.model, self.project, name, id_ or entity_id))
        except NotFound:
            if id_ is not None or entity_id is not None or self.model.VERSIONED:
                raise
        match = [e for e in self.backend.store.list(self.model, self.project, all_versions=True) if e.id == name]
        if not match:
            raise NotFound(f"no {self.what} with name or id {name!r} in project {self.project}")
        return self.wrap(match[0])

    def versions(self, identifier: str) -> list[T]:
        """Every version of a name (or of a key's name), newest first."""
        name, _ = self._parse(identifier)
        found = self.backend.store.list(self.model, self.project, name=name, all_versions=True)
        if not found:
            raise NotFound(f"no {self.what} {name} in project {self.project}")
        return [self.wrap(e) for e in found]

    def list(
        self,
        q: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        user: str | None = None,
        state: str | None = None,
        created: str | None = None,
        updated: str | None = None,
        versions: str | None = None,
        extra: list[Filter] | None = None,
    ) -> list[T]:
        """Newest first; the latest version of each name unless ``versions='all'``. ``q`` matches a name or an
        id in part; ``created``/``updated`` are ``START`` or ``START,END`` (ISO 8601, with an offset)."""
        refuse(f"{self.what} listing", user=user)
        if versions not in (None, "latest", "all"):
            raise SpecError(f"{self.what} listing", [("versions", f"{versions!r}: use 'latest' or 'all'")])
        filters: list[Filter] = list(extra or [])
        if q:
            filters.append(lambda e: q in e.name or q in e.id)
        if kind:
            filters.append(lambda e: e.kind == kind)
        if state:
            filters.append(lambda e: _state(e) == state)
        if created:
            filters.append(_between("created", created, lambda e: e.metadata.created))
        if updated:
            filters.append(_between("updated", updated, lambda e: e.metadata.updated))
        found = self.backend.store.list(self.model, self.project, name=name, all_versions=versions == "all")
        return [self.wrap(e) for e in found if all(f(e) for f in filters)]

    def update(self, obj: EntityObject) -> T:
        """Write back an object's metadata (description, labels, ...); a changed spec is refused, versions are
        immutable."""
        if not isinstance(obj.entity, self.model) or obj.project != self.project:
            raise SpecError(self.what, [("entity", f"{obj.key} is not a {self.what} of project {self.project}")])
        fix = f"a stored spec cannot change; create a new version (new_{self.what})"
        obj.entity = self.backend.store.update(obj.key, metadata_from(obj.entity, fix))
        return self.wrap(obj.entity)
