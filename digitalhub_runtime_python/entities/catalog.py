"""The entities of one type in one project, as SDK objects: found by name, key or id, listed with DigitalHub's
filters, their metadata updated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Generic, TypedDict, TypeVar, Unpack

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.compat import refuse
from digitalhub_runtime_python.entities.transfer import metadata_from
from digitalhub_runtime_python.models.base import Entity, now
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.keys import PREFIX, parse_key
from digitalhub_runtime_python.stores.base import NotFound
from digitalhub_runtime_python.stores.query import Order, Page, Query

T = TypeVar("T", bound=EntityObject)
Moment = datetime | timedelta | str
"""A point in time: a datetime with a time zone; an ISO 8601 string with an offset; or how long ago, as a
timedelta or a duration such as ``90s``, ``30m``, ``2h``, ``7d``, ``2w``."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
PAGE_SIZE = 500  # entities read per store request when a listing is read whole


class Filters(TypedDict, total=False):
    """DigitalHub's filters of the ``list_*`` calls (see :meth:`Catalog.query`); None selects any."""

    q: str | None
    name: str | None
    kind: str | None
    user: str | None
    state: str | None
    created: str | None
    updated: str | None
    versions: str | None
    function: str | None
    task: str | None
    action: str | None


class ListOptions(TypedDict, total=False):
    """What every ``list_*`` call takes besides DigitalHub's filters (keyword only).

    - ``since``, ``until``: created at or after ``since``, before ``until`` (each a :data:`Moment`);
    - ``labels``: only entities with every one of these labels (a string: one label);
    - ``limit``: at most this many, newest first; the returned page's ``continuation`` asks for the next ones;
    - ``order``: ``"newest"`` (the default) or ``"oldest"`` first;
    - ``continuation``: the ``continuation`` of the previous page (with the same filters and order);
    - ``count``: also count every entity the filters select, in the page's ``total``.
    """

    since: Moment | None
    until: Moment | None
    labels: list[str] | str | None
    limit: int | None
    order: Order
    continuation: str | None
    count: bool


def _failed(argument: str, problem: str) -> SpecError:
    return SpecError("listing", [(argument, problem)])


def _iso(value: str) -> datetime | None:
    """An ISO 8601 time with an offset, else None."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def moment(argument: str, value: Moment | None) -> datetime | None:
    """A :data:`Moment` as a datetime (None stays None); SpecError naming ``argument`` when it is none of them."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, timedelta):
        return now() - value
    if isinstance(value, str):
        duration = _DURATION.match(value)
        if duration:
            return now() - timedelta(**{_UNITS[duration[2]]: float(duration[1])})
        absolute = _iso(value)
        if absolute is not None:
            return absolute
    raise _failed(
        argument,
        f"{value!r} is not a time: give how long ago (e.g. 30m, 2h, 7d, 2w, or a timedelta), "
        "or a time with an offset (e.g. 2025-01-31T00:00:00Z, or an aware datetime)",
    )


def _interval(argument: str, value: str) -> tuple[datetime, datetime | None]:
    """``START`` or ``START,END`` as ISO 8601 times with an offset (DigitalHub's date filters)."""
    parts = value.split(",")
    times = [moment for moment in map(_iso, parts) if moment is not None]
    if len(parts) > 2 or len(times) != len(parts):
        raise _failed(
            argument, f"{value!r} is not START or START,END in ISO 8601 with an offset, e.g. 2025-01-31T00:00:00Z"
        )
    return times[0], times[1] if len(times) == 2 else None


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
        match = self.backend.store.page(self.model, self.project, Query(id=name), limit=1)
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

    def query(
        self,
        *,
        since: Moment | None = None,
        until: Moment | None = None,
        labels: list[str] | str | None = None,
        **filters: Unpack[Filters],
    ) -> Query:
        """A store query for DigitalHub's filters and this runtime's. ``q`` matches a name or an id in part;
        ``function`` is a key (that version) or a name (any version), ``task`` a key; ``created``/``updated`` are
        ``START`` or ``START,END`` in ISO 8601 with an offset (START included, END not), ``created`` another
        spelling of ``since``/``until``; the latest version of each name unless ``versions='all'``."""
        refuse(f"{self.what} listing", user=filters.get("user"))
        versions, created, updated = filters.get("versions"), filters.get("created"), filters.get("updated")
        if versions not in (None, "latest", "all"):
            raise _failed("versions", f"{versions!r}: use 'latest' or 'all'")
        if created is not None and (since is not None or until is not None):
            raise _failed("created", "give created (START,END) or since/until, not both")
        start, end = _interval("created", created) if created else (moment("since", since), moment("until", until))
        updated_since, updated_until = _interval("updated", updated) if updated else (None, None)
        return Query(
            name=filters.get("name"),
            kind=filters.get("kind"),
            q=filters.get("q"),
            state=filters.get("state"),
            function=filters.get("function"),
            task=filters.get("task"),
            action=filters.get("action"),
            since=start,
            until=end,
            updated_since=updated_since,
            updated_until=updated_until,
            labels=(labels,) if isinstance(labels, str) else tuple(labels or ()),
            latest=self.model.VERSIONED and versions != "all",
        )

    def list(
        self,
        query: Query,
        *,
        limit: int | None = None,
        order: Order = "newest",
        continuation: str | None = None,
        count: bool = False,
    ) -> Page[T]:
        """The entities ``query`` selects, newest (or oldest) first: every one, or a page of ``limit`` whose
        ``continuation`` asks for the next page; ``count`` fills the page's ``total``."""
        store = self.backend.store
        if limit is None:
            found: Page[Entity] = Page(store.scan(self.model, self.project, query, order, PAGE_SIZE, continuation))
        elif isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            found = store.page(self.model, self.project, query, limit=limit, order=order, after=continuation)
        else:
            raise _failed("limit", f"{limit!r}: give a positive number (or None for every entity)")
        total = self.count(query) if count else None
        return Page((self.wrap(entity) for entity in found), found.continuation, total)

    def count(self, query: Query) -> int:
        """How many entities ``query`` selects."""
        return self.backend.store.count(self.model, self.project, query)

    def find(self, filters: Filters, options: ListOptions) -> Page[T]:
        """``list`` for DigitalHub's filters and the :class:`ListOptions`."""
        query = self.query(
            since=options.get("since"), until=options.get("until"), labels=options.get("labels"), **filters
        )
        return self.list(
            query,
            limit=options.get("limit"),
            order=options.get("order", "newest"),
            continuation=options.get("continuation"),
            count=options.get("count", False),
        )

    def iterate(self, query: Query, order: Order = "newest") -> Iterator[T]:
        """Every entity ``query`` selects, read a page at a time as the iteration goes."""
        return (
            self.wrap(entity) for entity in self.backend.store.scan(self.model, self.project, query, order, PAGE_SIZE)
        )

    def update(self, obj: EntityObject) -> T:
        """Write back an object's metadata (description, labels, ...); a changed spec is refused, versions are
        immutable."""
        if not isinstance(obj.entity, self.model) or obj.project != self.project:
            raise SpecError(self.what, [("entity", f"{obj.key} is not a {self.what} of project {self.project}")])
        fix = f"a stored spec cannot change; create a new version (new_{self.what})"
        obj.entity = self.backend.store.update(obj.key, metadata_from(obj.entity, fix))
        return self.wrap(obj.entity)
