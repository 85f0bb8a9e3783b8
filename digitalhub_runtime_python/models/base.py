"""Common shape of every entity: ``{kind, project, name, id, key, metadata, spec, status}``."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from digitalhub_runtime_python.models.keys import build_key

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$"
_NAME_RE = re.compile(NAME_PATTERN)
# An id names a Kubernetes object and sits in a label, so: 1-63 lowercase letters, digits or '-' (a UUID fits).
ID_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_ID_RE = re.compile(ID_PATTERN)


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh entity id."""
    return os.urandom(16).hex()


def _checked(pattern: re.Pattern[str], value: str, field: str, what: str, rule: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(
            f"{field} {value!r} is not a valid {what}: use {rule}, starting and ending with a letter or digit"
        )
    return value


def check_name(value: str, field: str = "name") -> str:
    """Validate an entity name; the error names the field and the rule."""
    return _checked(_NAME_RE, value, field, "name", "1-63 lowercase letters, digits, '-', '_' or '.'")


def check_id(value: str, field: str = "uuid") -> str:
    """Validate an id chosen by the user (``uuid=``, a UUID fits); the error names the field and the rule."""
    return _checked(_ID_RE, value, field, "id", "1-63 lowercase letters, digits or '-'")


class StrictModel(BaseModel):
    """A model that rejects unknown fields instead of dropping them."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=True)


class Relationship(StrictModel):
    """A lineage edge from this entity to another one, by key."""

    type: str = Field(description="produced_by | consumes")
    dest: str


class Metadata(StrictModel):
    """Bookkeeping shared by all entities."""

    version: str | None = None
    created: datetime = Field(default_factory=now)
    updated: datetime = Field(default_factory=now)
    description: str | None = None
    labels: list[str] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)
    embedded: bool = Field(False, description="Exported inside the project's YAML rather than in a file of its own")
    git_source: str | None = Field(None, description="Remote git repository the entity comes from (informative)")


class EntityStatus(StrictModel):
    """Status of entities that have no lifecycle of their own beyond being stored."""

    state: str = "CREATED"


class Entity(StrictModel):
    """Base of every stored entity. Subclasses set ``ENTITY_TYPE`` and narrow ``kind``/``spec``/``status``."""

    ENTITY_TYPE: ClassVar[str]
    VERSIONED: ClassVar[bool] = False
    IMMUTABLE_SPEC: ClassVar[bool] = False
    """The spec never changes once stored (a change is a new version or a new run); its CRD refuses updates."""

    kind: str
    project: str
    name: str
    id: str = Field(default_factory=new_id)
    key: str = ""
    metadata: Metadata = Field(default_factory=Metadata)
    spec: Any = None
    status: Any = None

    @field_validator("project", "name")
    @classmethod
    def _valid_name(cls, value: str, info: Any) -> str:
        return check_name(value, info.field_name)

    @model_validator(mode="after")
    def _fill_key(self) -> Entity:
        expected = build_key(self.project, self.ENTITY_TYPE, self.kind, self.name, self.id)
        if self.key and self.key != expected:
            raise ValueError(f"key {self.key!r} does not match the entity; expected {expected!r}")
        object.__setattr__(self, "key", expected)
        if self.VERSIONED and self.metadata.version is None:
            self.metadata.version = self.id
        return self

    def document(self) -> dict[str, Any]:
        """JSON-ready dict of the entity."""
        return self.model_dump(mode="json")
