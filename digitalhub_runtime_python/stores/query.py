"""What a listing selects and how it pages: the query both stores answer, a page of results, and the continuation
token that asks for the page after it.

Pages are keyset pages: a continuation holds the sort key of the last entity shown (its creation time, then a
store's tie-breaker), so the next page starts right after it however many entities were created or deleted in
between, and costs the same on page 1 as on page 1,000.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar, get_args

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.indexed import Indexed, epoch_us, indexed
from digitalhub_runtime_python.models.keys import PREFIX
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Action

T = TypeVar("T")
Order = Literal["newest", "oldest"]
ORDERS: tuple[str, ...] = get_args(Order)
SortKey = tuple[int, int | str]


def _one_of(name: str, value: str | None, allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    if value is not None and value not in allowed:
        raise SpecError("listing", [(name, f"{value!r}: use one of {', '.join(allowed)}")])


def _within(value: int, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or value >= epoch_us(start)) and (end is None or value < epoch_us(end))


@dataclass(frozen=True)
class Query:
    """Which entities of one type in one project a listing selects; a field left None (or empty) selects any.

    ``q`` is part of a name or an id; ``function`` a function's key (that version) or name (any version);
    ``task`` a task's key; ``since``/``until`` bound the creation time (``since`` included, ``until`` not), and
    ``updated_since``/``updated_until`` the last update; ``labels``: every one of them; ``latest``: only the
    latest version of each name (filters apply to that version).
    """

    name: str | None = None
    id: str | None = None
    kind: str | None = None
    q: str | None = None
    state: str | None = None
    function: str | None = None
    task: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    updated_since: datetime | None = None
    updated_until: datetime | None = None
    labels: tuple[str, ...] = field(default=())
    latest: bool = False

    def __post_init__(self) -> None:
        _one_of("state", self.state, (s.value for s in State))
        _one_of("action", self.action, (a.value for a in Action))
        for name in ("since", "until", "updated_since", "updated_until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise SpecError("listing", [(name, f"{value!r}: give a datetime with a time zone")])

    @property
    def function_key(self) -> str | None:
        """``function`` when it is a key (one version)."""
        return self.function if self.function and self.function.startswith(PREFIX) else None

    def _function_matches(self, fields: Indexed) -> bool:
        if self.function is None:
            return True
        if self.function_key:
            return fields.function == self.function_key
        return fields.function_name == self.function

    def matches(self, entity: Entity) -> bool:
        """The query as a predicate on one entity (``latest`` aside: it depends on the other versions)."""
        fields = indexed(entity)
        return (
            self.name in (None, entity.name)
            and self.id in (None, entity.id)
            and self.kind in (None, fields.kind)
            and (not self.q or self.q in entity.name or self.q in entity.id)
            and self.state in (None, fields.state)
            and self._function_matches(fields)
            and self.task in (None, fields.task)
            and self.action in (None, fields.action)
            and _within(fields.created, self.since, self.until)
            and _within(fields.updated, self.updated_since, self.updated_until)
            and all(label in entity.metadata.labels for label in self.labels)
        )


class Page(list[T]):
    """One page of a listing: a list of entities, with ``continuation``, the token that asks for the next page
    (None on the last page), and ``total``, how many entities the whole listing selects (when it was counted)."""

    def __init__(self, items: Iterable[T] = (), continuation: str | None = None, total: int | None = None) -> None:
        super().__init__(items)
        self.continuation = continuation
        self.total = total


def sort_key(entity: Entity, tiebreak: int | str) -> SortKey:
    """How a listing orders entities: by creation time, then by a store's tie-breaker (row number, CR name)."""
    return epoch_us(entity.metadata.created), tiebreak


@dataclass(frozen=True)
class Listing:
    """One listing (entity type, project, query, order): it writes and reads the continuations of its pages, and a
    continuation from another listing is refused rather than silently giving a wrong page."""

    entity_type: str
    project: str
    query: Query
    order: Order = "newest"

    def __post_init__(self) -> None:
        _one_of("order", self.order, ORDERS)

    @property
    def _fingerprint(self) -> str:
        identity = f"{self.entity_type}|{self.project}|{self.order}|{self.query!r}"
        return hashlib.sha256(identity.encode()).hexdigest()[:16]

    def continuation(self, last: SortKey) -> str:
        """The token asking for the page after the entity whose sort key is ``last``."""
        document = json.dumps([self._fingerprint, *last], separators=(",", ":"))
        return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")

    def start(self, continuation: str | None) -> SortKey | None:
        """The sort key a continuation resumes after (None: from the first page)."""
        if continuation is None:
            return None
        try:
            padded = continuation + "=" * (-len(continuation) % 4)
            fingerprint, created, tiebreak = json.loads(base64.urlsafe_b64decode(padded))
            valid = fingerprint == self._fingerprint and isinstance(created, int)
        except (ValueError, TypeError, binascii.Error):
            valid = False
        if not valid:
            raise SpecError(
                "listing",
                [("continuation", "not a continuation of this listing (same filters and order): start without it")],
            )
        return created, tiebreak

    def beyond(self, key: SortKey, start: SortKey | None) -> bool:
        """True when ``key`` comes after ``start`` in this listing's order."""
        if start is None:
            return True
        return key < start if self.order == "newest" else key > start
