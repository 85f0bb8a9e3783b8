"""The entities a page lists: runs a page at a time, the latest version of everything else."""

from __future__ import annotations

import math
from dataclasses import dataclass

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.stores.base import Store
from digitalhub_runtime_python.stores.query import Query

DATA_MODELS = {"dataitems": Dataitem, "artifacts": Artifact, "models": Model}


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    page: int
    pages: int
    total: int


def run_page(store: Store, project: str, page: int, size: int) -> RunPage:
    """Runs of ``project``, newest first, page ``page`` (from 1) of ``size``: the store reads only the pages up to it
    (keyset pages: one indexed query each) and counts the runs, never parsing the whole history."""
    query = Query()
    total = store.count(Run, project, query)
    pages = max(1, math.ceil(total / size))
    page = min(max(page, 1), pages)
    after: str | None = None
    for _ in range(page - 1):
        after = store.page(Run, project, query, limit=size, after=after).continuation
        if after is None:
            break
    runs = store.page(Run, project, query, limit=size, after=after)
    return RunPage(list(runs), page, pages, total)


def data_entities(store: Store, project: str) -> dict[str, list[Entity]]:
    """The latest version of each dataitem, artifact and model, by plural."""
    return {plural: list(store.list(model, project)) for plural, model in DATA_MODELS.items()}
