"""Projects: the namespace every other entity lives in."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from digitalhub_runtime_python.models.base import Entity, EntityStatus, StrictModel


class ProjectSpec(StrictModel):
    description: str | None = None
    artifact_store: str | None = Field(
        None, description="Where artifacts and uploaded code go, e.g. s3://bucket/prefix (local file store when unset)"
    )
    source: str | None = Field(
        None, description="The project's local context folder, where export() writes (the current folder when unset)"
    )


class Project(Entity):
    ENTITY_TYPE: ClassVar[str] = "project"

    kind: Literal["project"] = "project"
    project: str = ""
    spec: ProjectSpec = Field(default_factory=ProjectSpec)
    status: EntityStatus = Field(default_factory=EntityStatus)

    @model_validator(mode="before")
    @classmethod
    def _own_project(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("project"):
            data = {**data, "project": data.get("name")}
        return data
