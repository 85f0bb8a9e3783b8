"""Downloads of the files of dataitems, artifacts and models: fetched from their file store into a temporary
folder, sent, then removed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from digitalhub_runtime_python.console.app import console_of
from digitalhub_runtime_python.console.listing import DATA_MODELS
from digitalhub_runtime_python.stores.base import NotFound
from digitalhub_runtime_python.stores.files import file_store_for

router = APIRouter()


@router.get("/projects/{project}/{plural}/{name}/download")
def download(
    request: Request,
    project: str,
    plural: str,
    name: str,
    file: str = Query(description="One of the entity's files, as its page lists them"),
    version: str | None = None,
) -> FileResponse:
    model = DATA_MODELS.get(plural)
    if model is None:
        raise NotFound(f"no page at {request.url.path}")
    entity = console_of(request).backend.store.get(model, project, name, version)
    if file not in {f.path for f in entity.status.files}:  # only recorded files: no path leaves the entity
        raise NotFound(f"{entity.key} has no file {file!r}")
    folder = Path(tempfile.mkdtemp(prefix="console-download-"))
    try:
        fetched = file_store_for(entity.spec.path).download(entity.spec.path, folder / "entity")
        path = fetched if fetched.is_file() else fetched / file
        if not path.is_file():
            raise NotFound(f"{entity.key}: file {file!r} is recorded but not stored at {entity.spec.path}")
    except (FileNotFoundError, NotFound):
        shutil.rmtree(folder, ignore_errors=True)
        raise NotFound(f"{entity.key}: {file!r} is not at {entity.spec.path}") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path, filename=Path(file).name, background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    )
