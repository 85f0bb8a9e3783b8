"""Dataitems, artifacts and models as objects: read them back, download them."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.entities.base import EntityObject, M
from digitalhub_runtime_python.models.data import Artifact as ArtifactModel
from digitalhub_runtime_python.models.data import Dataitem as DataitemModel
from digitalhub_runtime_python.models.data import Model as ModelModel
from digitalhub_runtime_python.stores.files import file_store_for


class DataObject(EntityObject[M]):
    """An entity whose spec.path points at stored files."""

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

    def as_df(self, **read_options: Any) -> Any:
        """Read the data as a pandas DataFrame (parquet or csv)."""
        from digitalhub_runtime_python.extras import require

        require("data")
        import pandas as pd

        with tempfile.TemporaryDirectory() as tmp:
            path = self.download(tmp)
            if path.suffix == ".csv":
                return pd.read_csv(path, **read_options)
            return pd.read_parquet(path, **read_options)


class Artifact(DataObject[ArtifactModel]):
    """A file or folder."""

    def as_object(self) -> Any:
        """Unpickle an artifact logged from a returned Python object. Only for artifacts you trust."""
        with tempfile.TemporaryDirectory() as tmp:
            return pickle.loads(self.download(tmp).read_bytes())


class Model(DataObject[ModelModel]):
    """A trained model with its framework, parameters and metrics."""


OBJECT_CLASSES: dict[str, type[DataObject]] = {"dataitem": Dataitem, "artifact": Artifact, "model": Model}
