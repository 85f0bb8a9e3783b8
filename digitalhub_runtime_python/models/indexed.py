"""The fields listings select and sort entities by, read once from an entity: both stores index them (SQLite
columns, Kubernetes labels) so a listing filters without reading every document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.keys import PREFIX

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch (a time without an offset is taken as UTC): exact, and ordered like the times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def key_name_and_id(key: str | None) -> tuple[str | None, str | None]:
    """The name and id an entity key names (what ``parse_key`` finds, read faster: this runs on every write);
    (None, None) for no key or one that is not a ``store://`` key."""
    if not key or not key.startswith(PREFIX):
        return None, None
    name, _, id_ = key.rpartition("/")[2].partition(":")
    return name or None, None if id_ in ("", "latest") else id_


def _text(value: object) -> str | None:
    """An enum's value, a string as it is, anything else None."""
    value = getattr(value, "value", value)
    return value if isinstance(value, str) and value else None


class Indexed(NamedTuple):
    """An entity's listing fields. ``function``/``task`` are keys (runs name both, tasks their function)."""

    kind: str
    state: str | None
    function: str | None
    function_name: str | None
    task: str | None
    action: str | None
    created: int
    updated: int

    @property
    def function_id(self) -> str | None:
        return key_name_and_id(self.function)[1]

    @property
    def task_id(self) -> str | None:
        return key_name_and_id(self.task)[1]


def indexed(entity: Entity) -> Indexed:
    """The listing fields of ``entity``."""
    spec, metadata = entity.spec, entity.metadata
    function = _text(getattr(spec, "function", None))
    return Indexed(
        kind=entity.kind,
        state=_text(getattr(entity.status, "state", None)),
        function=function,
        function_name=key_name_and_id(function)[0],
        task=_text(getattr(spec, "task", None)),
        action=_text(getattr(spec, "action", None)),
        created=epoch_us(metadata.created),
        updated=epoch_us(metadata.updated),
    )
