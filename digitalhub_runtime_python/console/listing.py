"""The entities a page lists: runs a page at a time, the latest version of everything else."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.stores.base import Store

DATA_MODELS = {"dataitems": Dataitem, "artifacts": Artifact, "models": Model}


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    page: int
    pages: int  # known up to this page and the next when the store pages (and does not count)
    total: int | None  # None when the store pages


def run_page(store: Store, project: str, page: int, size: int) -> RunPage:
    """Runs of ``project``, newest first, page ``page`` (from 1) of ``size``.

    A store whose listing takes ``limit`` reads only up to this page; the others list every run and slice.
    """
    if "limit" in inspect.signature(store.list).parameters:
        paged: Any = store.list  # the paged listing (issue 19): its signature is not the base class's yet
        runs = paged(Run, project, all_versions=True, limit=page * size + 1)
        return RunPage(runs[(page - 1) * size : page * size], page, page + int(len(runs) > page * size), None)
    runs = store.list(Run, project, all_versions=True)  # a run has one version: no latest-per-name query needed
    pages = max(1, math.ceil(len(runs) / size))
    page = min(page, pages)
    return RunPage(runs[(page - 1) * size : page * size], page, pages, len(runs))


def data_entities(store: Store, project: str) -> dict[str, list[Entity]]:
    """The latest version of each dataitem, artifact and model, by plural."""
    return {plural: list(store.list(model, project)) for plural, model in DATA_MODELS.items()}
