"""Map what a handler returns to named outputs, then to results (plain values) and logged entities."""

from __future__ import annotations

import json
import math
import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.entities.data import DataObject
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.models.base import Relationship


class OutputError(ValueError):
    """Returned values do not fit the declared or mapped outputs."""


def name_outputs(value: Any, declared: list[str] | None) -> dict[str, Any]:
    """Name returned values: ``@handler`` names, else ``output_0..n`` for a tuple's items; None is nothing."""
    if declared is None:
        if value is None:
            return {}
        items = value if isinstance(value, tuple) else (value,)
        return {f"output_{i}": item for i, item in enumerate(items)}
    if not declared:
        return {}
    if len(declared) == 1:
        return {declared[0]: value}
    if not isinstance(value, tuple) or len(value) != len(declared):
        got = f"a tuple of {len(value)}" if isinstance(value, tuple) else type(value).__name__
        raise OutputError(
            f"@handler declares outputs {declared} but the handler returned {got}: return one value per output"
        )
    return dict(zip(declared, value, strict=True))


def rename_outputs(named: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Apply the run's ``outputs`` mapping (output name -> name to log it under)."""
    unknown = sorted(set(mapping) - set(named))
    if unknown:
        raise OutputError(f"run outputs map {unknown}, which the handler did not return (it returned {sorted(named)})")
    renamed = {mapping.get(name, name): value for name, value in named.items()}
    if len(renamed) != len(named):
        raise OutputError(f"run outputs {dict(mapping)} give two outputs the same name: make them unique")
    return renamed


def is_plain(value: Any) -> bool:
    """True for JSON values (scalars, and lists/dicts of them) that belong in a run's results."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, dict)):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return False
        return True
    return False


def is_dataframe(value: Any) -> bool:
    """True for a pandas DataFrame, without importing pandas."""
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def store_outputs(project: Project, run_key: str, named: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Plain values become results; DataFrames, entities and other objects become outputs (entity keys)."""
    results: dict[str, Any] = {}
    outputs: dict[str, str] = {}
    lineage = [Relationship(type="produced_by", dest=run_key)]
    for name, value in named.items():
        if isinstance(value, DataObject):
            outputs[name] = value.key
        elif is_plain(value):
            results[name] = value
        elif is_dataframe(value):
            outputs[name] = project.log_dataitem(name, df=value, relationships=lineage).key
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{name}.pickle"
                path.write_bytes(pickle.dumps(value))
                outputs[name] = project.log_artifact(name, source=path, relationships=lineage).key
    return results, outputs
