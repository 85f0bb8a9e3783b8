"""Dataitems, artifacts and models as objects: read them back, download and upload their files, tables as
DataFrames and SQL."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.entities.base import EntityObject, M
from digitalhub_runtime_python.entities.materials import Sources, staged, upload_to
from digitalhub_runtime_python.entities.tables import check_engine, query_table, read_table, schema, write_table
from digitalhub_runtime_python.models.data import Artifact as ArtifactModel
from digitalhub_runtime_python.models.data import Dataitem as DataitemModel
from digitalhub_runtime_python.models.data import DataStatus
from digitalhub_runtime_python.models.data import Model as ModelModel
from digitalhub_runtime_python.stores.files import file_info, file_store_for


class DataObject(EntityObject[M]):
    """An entity whose spec.path points at stored files."""

    def as_file(self) -> list[str]:
        """Download into a new temporary folder; the paths of the downloaded files."""
        path = self.download(tempfile.mkdtemp(prefix=f"{self.name}-"))
        return [str(path)] if path.is_file() else sorted(str(p) for p in path.rglob("*") if p.is_file())

    def get_file_paths(self) -> list[str]:
        """The paths of the stored files (relative to ``spec.path``), as recorded in the status."""
        return [f.path for f in self.status.files]

    def upload(self, source: Sources, keep_dir_structure: bool = False) -> None:
        """Copy a local file or folder (or a list of files) to ``spec.path`` and record its files."""
        with staged(self.entity.ENTITY_TYPE, source, keep_dir_structure) as local:
            upload_to(self.spec.path, local)
            files = file_info(local)

        def change(entity: M) -> M:
            entity.status = DataStatus(state="READY", files=files)
            return entity

        self._update(change)

    def download(self, destination: str | Path | None = None) -> Path:
        """Copy the stored file or folder to ``destination``; return the path of the copy.

        A file lands at ``destination`` itself, unless ``destination`` ends with a separator or is an existing
        folder: then it goes inside, under its own name. A folder always goes inside ``destination`` under its
        own name, keeping its layout. Without ``destination``, a new temporary folder is used. For a file
        artifact ``big.bin`` and a folder model ``clf/``::

            artifact.download("dl.bin")   # -> dl.bin (the file, renamed)
            artifact.download("out/")     # -> out/big.bin (out/ is created)
            artifact.download("existing") # -> existing/big.bin (an existing folder)
            model.download("models")      # -> models/clf/... (created if missing)

        Large transfers show progress: a bar on a terminal, a log line per 10% elsewhere.
        """
        dest = destination if destination is not None else tempfile.mkdtemp(prefix=f"{self.name}-")
        return file_store_for(self.spec.path).download(self.spec.path, dest)


class Dataitem(DataObject[DataitemModel]):
    """A table or other data set."""

    _query: str | None = None

    def as_df(self, file_format: str | None = None, engine: str | None = "pandas", **kwargs: Any) -> Any:
        """The table as a pandas DataFrame (parquet, csv or json: ``file_format``, else the file's extension);
        ``kwargs`` go to pandas' reader. After ``query(sql)``, the result of that query."""
        check_engine(engine)
        sql, self._query = self._query, None
        with tempfile.TemporaryDirectory() as tmp:
            path = self.download(tmp)
            if sql is not None:
                return query_table(path, self.name, sql, file_format)
            return read_table(path, file_format, **kwargs)

    def query(self, query: str) -> Dataitem:
        """Set a SQL query (DuckDB) for the next ``as_df()``; the table is called by the dataitem's name:
        ``di.query('SELECT a FROM "my-table" WHERE b > 1').as_df()``."""
        self._query = query
        return self

    def write_df(self, df: Any, extension: str | None = None, **kwargs: Any) -> str:
        """Write a DataFrame to the dataitem's path (format from ``extension``, else the path's extension); the
        index is dropped unless ``index=True``. Records the new files and columns; returns the path."""
        with tempfile.TemporaryDirectory() as tmp:
            local = write_table(df, Path(tmp, Path(self.spec.path).name), extension, **kwargs)
            uri = upload_to(self.spec.path, local)
            files = file_info(local)
        table = schema(df)

        def change(entity: DataitemModel) -> DataitemModel:
            entity.spec.columns, entity.spec.rows = table["columns"], table["rows"]
            entity.status = DataStatus(state="READY", files=files)
            return entity

        self._update(change)
        return uri


class Artifact(DataObject[ArtifactModel]):
    """A file or folder."""

    def as_object(self) -> Any:
        """Unpickle an artifact logged from a returned Python object. Only for artifacts you trust."""
        with tempfile.TemporaryDirectory() as tmp:
            return pickle.loads(self.download(tmp).read_bytes())


class Model(DataObject[ModelModel]):
    """A trained model with its framework, parameters and metrics."""


OBJECT_CLASSES: dict[str, type[DataObject]] = {"dataitem": Dataitem, "artifact": Artifact, "model": Model}
