"""The first rows of a table dataitem, read with DuckDB's LIMIT so a large table is not loaded whole."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.tables import query_table
from digitalhub_runtime_python.extras import MissingExtra
from digitalhub_runtime_python.models.data import Dataitem
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.stores.files import file_store_for

ROWS = 20


@dataclass(frozen=True)
class Preview:
    columns: list[str]
    rows: list[list[str]]
    problem: str | None = None  # why there is no preview


def table_preview(entity: Dataitem, backend: Backend, rows: int = ROWS) -> Preview:
    """Up to ``rows`` rows of the table, as text; a Preview with ``problem`` set when it cannot be read."""
    if entity.kind != "table":
        return Preview([], [], "not a table")
    try:
        with tempfile.TemporaryDirectory(prefix="console-preview-") as tmp:
            path = file_store_for(entity.spec.path).download(entity.spec.path, Path(tmp))  # keeps its name
            quoted = '"' + entity.name.replace('"', '""') + '"'
            df = query_table(path, entity.name, f"SELECT * FROM {quoted} LIMIT {int(rows)}")
    except (MissingExtra, SpecError, FileNotFoundError, ValueError, OSError) as exc:
        return Preview([], [], str(exc))
    return Preview([str(c) for c in df.columns], [[str(v) for v in row] for row in df.itertuples(index=False)])
