"""The store interface: one API for the embedded SQLite store and the Kubernetes custom-resource store."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from digitalhub_runtime_python.models.base import Entity, now
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run, RunStatus
from digitalhub_runtime_python.models.states import State, Transition, check_transition
from digitalhub_runtime_python.models.types import entity_class
from digitalhub_runtime_python.stores.changes import ChangeFeed
from digitalhub_runtime_python.stores.query import Order, Page, Query

E = TypeVar("E", bound=Entity)


class NotFound(LookupError):
    """No entity with that key."""


class AlreadyExists(ValueError):
    """An entity with that key is already stored."""


@dataclass(frozen=True)
class LogRecord:
    """One chunk of a run's console output."""

    time: datetime
    stream: str  # stdout | stderr | system
    text: str


def apply_transition(status: RunStatus, state: State | str, message: str | None = None) -> RunStatus:
    """Move a run status to ``state`` (refusing illegal moves), record the transition and update the conditions."""
    target = check_transition(status.state, state)
    status.transitions.append(Transition(time=now(), state=target, message=message))
    status.state = target
    status.message = message
    status.refresh_conditions()
    return status


class Store(abc.ABC):
    """Persistence of entities, run logs and run state changes."""

    @abc.abstractmethod
    def create(self, entity: E) -> E:
        """Store a new entity (a new version, for versioned types)."""

    @abc.abstractmethod
    def get(self, cls: type[E], project: str, name: str, id: str | None = None) -> E:
        """One entity; ``id=None`` means the latest version."""

    @abc.abstractmethod
    def page(
        self, cls: type[E], project: str, query: Query, *, limit: int, order: Order = "newest", after: str | None = None
    ) -> Page[E]:
        """Up to ``limit`` entities of a type that ``query`` selects, newest (or oldest) first; ``after``: the
        continuation of the previous page. The page's continuation is None when nothing follows."""

    @abc.abstractmethod
    def count(self, cls: type[E], project: str, query: Query) -> int:
        """How many entities of a type ``query`` selects."""

    def scan(
        self,
        cls: type[E],
        project: str,
        query: Query,
        order: Order = "newest",
        page_size: int = 500,
        after: str | None = None,
    ) -> Iterator[E]:
        """Every entity ``query`` selects (after the continuation ``after``), in order, read a page at a time as
        the iteration goes: memory follows the page, not the selection."""
        while True:
            page = self.page(cls, project, query, limit=page_size, order=order, after=after)
            yield from page
            if page.continuation is None:
                return
            after = page.continuation

    def list(self, cls: type[E], project: str, *, name: str | None = None, all_versions: bool = False) -> list[E]:
        """Entities of a type, newest first; latest version of each name unless ``all_versions``."""
        return builtins.list(self.scan(cls, project, Query(name=name, latest=not all_versions)))

    @abc.abstractmethod
    def list_projects(self) -> builtins.list[Project]:
        """Every project, newest first."""

    @abc.abstractmethod
    def update(self, key: str, change: Callable[[Entity], Entity]) -> Entity:
        """Atomically read, change and write back one entity."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove an entity (and a run's logs)."""

    def delete_logs(self, run_key: str) -> None:  # noqa: B027 (stores keeping no logs have nothing to do)
        """Remove a run's console output (``delete`` does it for the run it removes)."""

    @abc.abstractmethod
    def append_logs(self, run_key: str, records: builtins.list[LogRecord]) -> None:
        """Add console output to a run."""

    @abc.abstractmethod
    def read_logs(self, run_key: str) -> builtins.list[LogRecord]:
        """All console output of a run, oldest first."""

    def read_logs_after(self, run_key: str, after: int = 0, limit: int = 1000) -> tuple[builtins.list[LogRecord], int]:
        """Up to ``limit`` records of a run's output past cursor ``after`` (0: from the start), and the cursor to
        read on from: a long log read a page at a time. This default reads the whole log and slices it."""
        records = self.read_logs(run_key)[after : after + limit]
        return records, after + len(records)

    def changes(self) -> ChangeFeed:
        """A feed of this store's writes from now on, for views that follow the store live."""
        raise NotImplementedError(f"{type(self).__name__} has no change feed")

    @abc.abstractmethod
    def wait(self, key: str, until: Callable[[Entity], bool], timeout: float | None = None) -> Entity:
        """Block until ``until(entity)`` holds; raise TimeoutError after ``timeout`` seconds."""

    def get_key(self, key: str) -> Entity:
        """An entity by key (``:latest`` or no id resolves the newest version)."""
        parsed = parse_key(key)
        cls = entity_class(parsed.entity_type)
        entity = self.get(cls, parsed.project, parsed.name, parsed.id)
        if parsed.kind not in (None, entity.kind):
            raise NotFound(f"{key}: stored entity is of kind {entity.kind!r}")
        return entity

    def get_as(self, cls: type[E], key: str) -> E:
        """An entity by key that must be of type ``cls``; NotFound when the key names another type."""
        entity = self.get_key(key)
        if not isinstance(entity, cls):
            raise NotFound(f"{key} is a {entity.ENTITY_TYPE}, not a {cls.ENTITY_TYPE}")
        return entity

    def get_run(self, key: str) -> Run:
        """A run by key."""
        return self.get_as(Run, key)

    def update_run(self, key: str, change: Callable[[Run], Run]) -> Run:
        """Atomically read, change and write back one run."""

        def typed(entity: Entity) -> Entity:
            if not isinstance(entity, Run):
                raise NotFound(f"{key} is a {entity.ENTITY_TYPE}, not a run")
            return change(entity)

        updated = self.update(key, typed)
        assert isinstance(updated, Run)
        return updated

    def wait_run(self, key: str, until: Callable[[Run], bool], timeout: float | None = None) -> Run:
        """Block until ``until(run)`` holds; TimeoutError after ``timeout`` seconds."""
        run = self.wait(key, lambda entity: isinstance(entity, Run) and until(entity), timeout)
        assert isinstance(run, Run)
        return run

    def transition(self, run_key: str, state: State | str, message: str | None = None, **status: object) -> Run:
        """Move a run to ``state``, also setting other status fields, in one atomic write."""

        def change(run: Run) -> Run:
            for field, value in status.items():
                setattr(run.status, field, value)
            apply_transition(run.status, state, message)
            return run

        return self.update_run(run_key, change)

    def close(self) -> None:  # noqa: B027 (optional: stores without connections keep it)
        """Release connections."""
