"""The ``python`` function: where the code is and how to call it."""

from __future__ import annotations

import re
import sys
from enum import Enum
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from digitalhub_runtime_python.models.base import Entity, EntityStatus, StrictModel

HANDLER_PATTERN = r"^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:)?[A-Za-z_][A-Za-z0-9_]*$"
_HANDLER_RE = re.compile(HANDLER_PATTERN)
END_OF_LIFE = {"PYTHON3_9": "October 2025", "PYTHON3_10": "October 2026"}
"""Versions DigitalHub accepted that this runtime refuses: when their upstream support ended."""


class PythonVersion(str, Enum):
    PYTHON3_11 = "PYTHON3_11"
    PYTHON3_12 = "PYTHON3_12"
    PYTHON3_13 = "PYTHON3_13"
    PYTHON3_14 = "PYTHON3_14"

    @classmethod
    def current(cls) -> PythonVersion:
        """The version of the running interpreter, if supported."""
        return cls(f"PYTHON{sys.version_info.major}_{sys.version_info.minor}")

    @property
    def dotted(self) -> str:
        """``PYTHON3_11`` -> ``3.11``."""
        return self.value.removeprefix("PYTHON").replace("_", ".")


class FunctionSpec(StrictModel):
    """Spec of a python function. Exactly one of ``code_src``, ``code``, ``base64`` holds the code."""

    code_src: str | None = Field(
        None, description="URI of the code: local path, git+https://, zip+s3://, s3://, http(s)://"
    )
    code: str | None = Field(None, description="Source code, plain text")
    base64: str | None = Field(None, description="Source code, base64-encoded")
    handler: str = Field(description="Entrypoint: 'fn' or 'pkg.mod:fn'")
    init_function: str | None = Field(None, description="Function run once before serving")
    lang: Literal["python"] = "python"
    python_version: PythonVersion = Field(default_factory=PythonVersion.current)
    image: str | None = None
    base_image: str | None = None
    requirements: list[str] = Field(
        default_factory=list,
        description="Packages the handler needs (pip requirement specifiers), installed into the function's "
        "environment for subprocess and pod runs",
    )

    @field_validator("python_version", mode="before")
    @classmethod
    def _known_version(cls, value: object) -> object:
        allowed = [v.value for v in PythonVersion]
        if isinstance(value, PythonVersion) or value in allowed:
            return value
        if isinstance(value, str) and value in END_OF_LIFE:
            raise ValueError(
                f"python_version {value} is past end of life (since {END_OF_LIFE[value]}) and no longer supported: "
                f"use one of {', '.join(allowed)}"
            )
        raise ValueError(f"python_version {value!r} is not supported: use one of {', '.join(allowed)}")

    @field_validator("handler")
    @classmethod
    def _valid_handler(cls, value: str) -> str:
        if not _HANDLER_RE.match(value):
            raise ValueError(f"handler {value!r} is not valid: use 'function' or 'package.module:function'")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FunctionSpec:
        given = [f for f in ("code_src", "code", "base64") if getattr(self, f)]
        if len(given) != 1:
            detail = "none was given" if not given else f"got {', '.join(given)}"
            raise ValueError(f"give exactly one of code_src, code or base64 ({detail})")
        return self


class Function(Entity):
    ENTITY_TYPE: ClassVar[str] = "function"
    IMMUTABLE_SPEC: ClassVar[bool] = True
    VERSIONED: ClassVar[bool] = True

    kind: Literal["python"] = "python"
    spec: FunctionSpec
    status: EntityStatus = Field(default_factory=EntityStatus)
