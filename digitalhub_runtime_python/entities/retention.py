"""Pruning run history: select the finished runs older than a cutoff (keeping the newest few), then delete them
with their logs and, optionally, the outputs that no run staying behind uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.catalog import Moment, moment
from digitalhub_runtime_python.entities.deletion import delete_entity
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import FINAL_STATES, is_final
from digitalhub_runtime_python.stores.base import NotFound
from digitalhub_runtime_python.stores.query import Query


@dataclass
class Pruning:
    """The runs a prune selected (keys, newest first) and the outputs going with them; ``deleted`` says whether
    they were deleted (a dry run only selects)."""

    project: str
    runs: list[str]
    outputs: list[str] = field(default_factory=list)
    deleted: bool = False
    backend: Backend | None = field(default=None, repr=False, compare=False)

    def delete(self, progress: Callable[[int], None] | None = None) -> Pruning:
        """Delete the selected runs (with their logs), then the selected outputs (with the files this runtime
        stored for them). A run that was deleted meanwhile is skipped, and so is one that is no longer finished
        (a resumed service). ``progress`` is called with 1 after each deletion."""
        if self.backend is None:
            raise RuntimeError("this pruning has no backend to delete with: get it from prune_runs")
        store = self.backend.store
        for key in self.runs:
            try:
                run = store.get_run(key)
            except NotFound:
                run = None
            if run is not None and is_final(run.status.state):
                delete_entity(self.backend, run, cascade=False)
            if progress:
                progress(1)
        for key in self.outputs:
            try:
                delete_entity(self.backend, store.get_key(key), cascade=True)
            except NotFound:
                pass
            if progress:
                progress(1)
        self.deleted = True
        return self


def _check(older_than: Moment | None, keep_last: int | None, state: str | None) -> None:
    if older_than is None and keep_last is None:
        raise SpecError("prune", [("older_than", "give older_than and/or keep_last: without them every run would go")])
    if keep_last is not None and (not isinstance(keep_last, int) or isinstance(keep_last, bool) or keep_last < 0):
        raise SpecError("prune", [("keep_last", f"{keep_last!r}: give a number of runs, 0 or more")])
    if state is not None and state not in FINAL_STATES:
        finished = ", ".join(sorted(s.value for s in FINAL_STATES))
        raise SpecError("prune", [("state", f"{state!r}: only finished runs are pruned; use one of {finished}")])


def prune_runs(
    backend: Backend,
    project: str,
    *,
    older_than: Moment | None = None,
    keep_last: int | None = None,
    state: str | None = None,
    function: str | None = None,
    outputs: bool = False,
    dry_run: bool = True,
) -> Pruning:
    """Select the finished runs of ``project`` created before ``older_than`` (a :data:`Moment`: ``"30d"`` is 30
    days ago), of ``state`` and ``function`` if given, except the newest ``keep_last`` runs of that state and
    function; with ``outputs``, also the entities they output that no other run uses (as input or output).
    Nothing is deleted unless ``dry_run=False``."""
    _check(older_than, keep_last, state)
    store = backend.store
    chosen = Query(state=state, function=function)
    kept = {run.key for run in store.page(Run, project, chosen, limit=keep_last)} if keep_last else set()
    selection = dataclasses.replace(chosen, until=moment("older_than", older_than))
    runs, produced = [], {}
    for run in store.scan(Run, project, selection):
        if is_final(run.status.state) and run.key not in kept:
            runs.append(run.key)
            produced.update(dict.fromkeys(run.status.outputs.values()))
    if outputs and produced:  # outputs that a run staying behind takes as input (or lists as output) stay too
        going = set(runs)
        for run in store.scan(Run, project, Query()):
            if run.key not in going:
                for key in (*run.spec.inputs.values(), *run.status.outputs.values()):
                    produced.pop(key, None)
    pruning = Pruning(project, runs, list(produced) if outputs else [], backend=backend)
    return pruning if dry_run else pruning.delete()
