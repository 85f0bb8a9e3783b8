"""Entity keys: ``store://<project>/<type>/<kind>/<name>:<id>`` (``store://<name>`` for a project)."""

from __future__ import annotations

from typing import NamedTuple

PREFIX = "store://"


class InvalidKey(ValueError):
    """A malformed entity key."""


class ParsedKey(NamedTuple):
    project: str
    entity_type: str
    kind: str | None
    name: str
    id: str | None


def build_key(project: str, entity_type: str, kind: str, name: str, id: str | None) -> str:
    """Compose an entity key."""
    if entity_type == "project":
        return f"{PREFIX}{name}"
    suffix = f":{id}" if id else ""
    return f"{PREFIX}{project}/{entity_type}/{kind}/{name}{suffix}"


def parse_key(key: str) -> ParsedKey:
    """Split a key; ``:latest`` or no id means the newest version."""
    if not isinstance(key, str) or not key.startswith(PREFIX):
        raise InvalidKey(f"{key!r} is not an entity key: expected store://<project>/<type>/<kind>/<name>:<id>")
    parts = key[len(PREFIX) :].split("/")
    if len(parts) == 1 and parts[0]:
        return ParsedKey(parts[0], "project", "project", parts[0], None)
    if len(parts) != 4 or not all(parts):
        raise InvalidKey(f"{key!r} is not an entity key: expected store://<project>/<type>/<kind>/<name>:<id>")
    project, entity_type, kind, rest = parts
    name, _, id_ = rest.partition(":")
    return ParsedKey(project, entity_type, kind, name, None if id_ in ("", "latest") else id_)
