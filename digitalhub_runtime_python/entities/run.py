"""A run as an object: wait for it, read its logs, results and outputs, stop it."""

from __future__ import annotations

from typing import Any

from ..models import Run as RunModel
from ..models import is_final
from .base import EntityObject
from .data import OBJECT_CLASSES, DataObject


class Run(EntityObject[RunModel]):
    """One execution of a function's task."""

    def wait(self, timeout: float | None = None) -> "Run":
        """Block until the run reaches COMPLETED, ERROR or STOPPED; TimeoutError after ``timeout`` s."""
        self.entity = self._client.store.wait(self.key, lambda run: is_final(run.status.state), timeout)
        return self

    def logs(self) -> str:
        """The run's captured stdout and stderr."""
        return "".join(record.text for record in self._client.store.read_logs(self.key))

    def stop(self) -> "Run":
        """Stop the run if it has not finished; a finished run is left as it is."""
        self.refresh()
        if not is_final(self.status.state):
            self._client.launcher(self.spec.action, self.spec.local_execution).stop(self)
        return self.refresh()

    def results(self) -> dict[str, Any]:
        """Plain values the handler returned, by output name."""
        return dict(self.status.results)

    def outputs(self) -> dict[str, DataObject]:
        """Entities the handler returned (dataitems, artifacts, models), by output name."""
        store = self._client.store
        objects = {}
        for name, key in self.status.outputs.items():
            entity = store.get_key(key)
            objects[name] = OBJECT_CLASSES[entity.ENTITY_TYPE](entity, self._client)
        return objects
