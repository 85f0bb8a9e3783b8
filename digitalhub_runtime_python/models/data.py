"""Data entities: dataitems (tables), artifacts (files) and models."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from digitalhub_runtime_python.models.base import Entity, EntityStatus, StrictModel


class FileInfo(StrictModel):
    path: str
    size: int | None = None
    sha256: str | None = None


class DataStatus(EntityStatus):
    files: list[FileInfo] = Field(default_factory=list)


class DataitemSpec(StrictModel):
    path: str = Field(description="URI of the data")
    columns: dict[str, str] | None = Field(None, description="Column -> dtype, for tables")
    rows: int | None = None


class Dataitem(Entity):
    ENTITY_TYPE: ClassVar[str] = "dataitem"
    VERSIONED: ClassVar[bool] = True

    kind: Literal["table", "dataitem"] = "table"
    spec: DataitemSpec
    status: DataStatus = Field(default_factory=DataStatus)


class ArtifactSpec(StrictModel):
    path: str = Field(description="URI of the stored file or folder")
    src_path: str | None = Field(None, description="Where it was logged from")


class Artifact(Entity):
    ENTITY_TYPE: ClassVar[str] = "artifact"
    VERSIONED: ClassVar[bool] = True

    kind: Literal["artifact"] = "artifact"
    spec: ArtifactSpec
    status: DataStatus = Field(default_factory=DataStatus)


class ModelSpec(StrictModel):
    path: str = Field(description="URI of the stored model file or folder")
    src_path: str | None = None
    framework: str | None = None
    algorithm: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)


class Model(Entity):
    ENTITY_TYPE: ClassVar[str] = "model"
    VERSIONED: ClassVar[bool] = True

    kind: Literal["model", "sklearn", "mlflow", "huggingface"] = "model"
    spec: ModelSpec
    status: DataStatus = Field(default_factory=DataStatus)
