"""Putting files behind data entities: stage what the user gives (a path, or a list of files), upload it to the
project's file store or to a path of the user's, and record the entity with its files."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from os.path import commonpath
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.models.base import Entity, Relationship, check_id, new_id
from digitalhub_runtime_python.models.data import DataStatus
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.stores.files import file_info, file_store_for

Sources = str | Path | Sequence[str | Path]


@contextmanager
def staged(what: str, source: Sources, keep_dir_structure: bool = False) -> Any:
    """The path to upload for ``source``: a file or folder as it is, a list of files gathered in a temporary
    folder (flat, or under their paths relative to their common folder with ``keep_dir_structure``)."""
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.exists():
            raise SpecError(what, [("source", f"{path} does not exist")])
        yield path
        return
    files = [Path(s).expanduser() for s in source]
    missing = [str(f) for f in files if not f.is_file()]
    if not files or missing:
        raise SpecError(what, [("source", f"not files: {', '.join(missing)}" if missing else "an empty list")])
    root = Path(commonpath([f.resolve().parent for f in files]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp, "files")
        for file in files:
            target = folder / (file.resolve().relative_to(root) if keep_dir_structure else file.name)
            if target.exists():
                raise SpecError(what, [("source", f"two files would both be {target.name}: keep_dir_structure=True")])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
        yield folder


def upload_to(uri: str, source: Path) -> str:
    """Copy a file or folder to exactly ``uri``; the stored URI."""
    return file_store_for(uri).upload(source, "")


def log_material(
    backend: Backend,
    project: Project,
    model: type[Entity],
    name: str,
    kind: str,
    source: Path,
    *,
    spec: dict[str, Any] | None = None,
    path: str | None = None,
    uuid: str | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    embedded: bool = False,
    relationships: list[Relationship] | None = None,
) -> Entity:
    """Upload ``source`` (to ``path``, else under the project's file store) and record it as a new version of
    ``name`` with its files."""
    what = model.ENTITY_TYPE
    try:
        entity_id = check_id(uuid) if uuid is not None else new_id()
    except ValueError as exc:
        raise SpecError(what, [("uuid", str(exc))]) from None
    entity = validate(
        model,
        {
            "project": project.name,
            "name": name,
            "id": entity_id,
            "kind": kind,
            "spec": {"path": path or "pending", **(spec or {})},
            "metadata": {
                "description": description,
                "labels": labels or [],
                "embedded": embedded,
                "relationships": relationships or [],
            },
        },
        what,
    )
    if path:
        entity.spec.path = upload_to(path, source)
    else:
        dest = f"{project.name}/{what}/{name}/{entity_id}/{source.name}"
        entity.spec.path = backend.files(project).upload(source, dest)
    entity.status = DataStatus(state="READY", files=file_info(source))
    return backend.store.create(entity)
