"""The entities a page lists: runs a page at a time, the latest version of everything else."""

from __future__ import annotations

import math
from dataclasses import dataclass

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.stores.base import Store

DATA_MODELS = {"dataitems": Dataitem, "artifacts": Artifact, "models": Model}


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    page: int
    pages: int
    total: int


def run_page(store: Store, project: str, page: int, size: int) -> RunPage:
    """Runs of ``project``, newest first, page ``page`` (from 1) of ``size``.

    The store's listing has no paging yet, so this lists every run and slices; a paged listing replaces the slice.
    """
    runs = store.list(Run, project, all_versions=True)  # a run has one version: no latest-per-name query needed
    pages = max(1, math.ceil(len(runs) / size))
    page = min(page, pages)
    return RunPage(runs[(page - 1) * size : page * size], page, pages, len(runs))


def data_entities(store: Store, project: str) -> dict[str, list[Entity]]:
    """The latest version of each dataitem, artifact and model, by plural."""
    return {plural: list(store.list(model, project)) for plural, model in DATA_MODELS.items()}
