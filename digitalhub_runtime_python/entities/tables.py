"""Tables on disk: read and write them with pandas (parquet, csv, json), query them with SQL through DuckDB.

pandas, pyarrow and DuckDB come with the ``data`` extra and are imported on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digitalhub_runtime_python.extras import require
from digitalhub_runtime_python.models.errors import SpecError

FORMATS = ("parquet", "csv", "json")


def check_engine(engine: str | None) -> None:
    """Only pandas DataFrames are supported; name the argument otherwise."""
    if engine not in (None, "pandas"):
        raise SpecError("table", [("engine", f"{engine!r} is not supported: use 'pandas' (the default)")])


def table_format(path: Path | str, file_format: str | None, argument: str = "file_format") -> str:
    """The format to read or write ``path`` in: ``file_format`` if given, else the file's extension."""
    chosen = (file_format or Path(str(path)).suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        given = f"{file_format!r}" if file_format else f"the extension of {Path(str(path)).name!r}"
        raise SpecError("table", [(argument, f"{given} is not a table format: use one of {', '.join(FORMATS)}")])
    return chosen


def table_files(path: Path, file_format: str | None) -> tuple[list[Path], str]:
    """The files holding a table (a file, or a folder of files of one format) and their format."""
    if path.is_file():
        return [path], table_format(path, file_format)
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"{path} holds no table files")
    fmt = table_format(files[0], file_format)
    return [f for f in files if f.suffix.lstrip(".").lower() == fmt], fmt


def read_table(path: Path, file_format: str | None = None, **options: Any) -> Any:
    """A pandas DataFrame of the table at ``path``; ``options`` go to pandas' reader."""
    require("data")
    import pandas as pd

    files, fmt = table_files(path, file_format)
    reader = {"parquet": pd.read_parquet, "csv": pd.read_csv, "json": pd.read_json}[fmt]
    frames = [reader(f, **options) for f in files]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def write_table(df: Any, path: Path, extension: str | None = None, **options: Any) -> Path:
    """Write a DataFrame to ``path`` (its format from ``extension`` or the path's suffix); the index is dropped
    unless ``index=True`` is given."""
    require("data")
    fmt = table_format(path, extension, "extension")
    options.setdefault("index", False)
    if fmt == "parquet":
        df.to_parquet(path, **options)
    elif fmt == "csv":
        df.to_csv(path, **options)
    else:
        options.pop("index")
        df.to_json(path, orient="records", **options)
    return path


def schema(df: Any) -> dict[str, Any]:
    """Columns with their dtypes, and the number of rows."""
    return {"columns": {str(c): str(t) for c, t in df.dtypes.items()}, "rows": len(df)}


def query_table(path: Path, table: str, sql: str, file_format: str | None = None) -> Any:
    """Run ``sql`` with DuckDB over the table at ``path``, which the query calls ``table``; a pandas DataFrame."""
    require("data")
    import duckdb

    files, fmt = table_files(path, file_format)
    reader = {"parquet": "read_parquet", "csv": "read_csv_auto", "json": "read_json_auto"}[fmt]
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    quoted = '"' + table.replace('"', '""') + '"'
    with duckdb.connect() as db:
        db.execute(f"CREATE VIEW {quoted} AS SELECT * FROM {reader}([{listed}])")
        try:
            return db.execute(sql).df()
        except duckdb.Error as exc:
            raise SpecError("query", [("query", f"{exc} (the table is called {quoted})")]) from None
