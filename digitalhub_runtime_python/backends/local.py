"""The embedded backend: entities in a SQLite file under ``$DIGITALHUB_HOME``, every run executed on this machine."""

from __future__ import annotations

from digitalhub_runtime_python.entities.backend import Backend, Launcher
from digitalhub_runtime_python.launchers import supervision
from digitalhub_runtime_python.launchers.build import LocalBuildLauncher
from digitalhub_runtime_python.launchers.job import LocalJobLauncher
from digitalhub_runtime_python.launchers.serve import LocalServeLauncher
from digitalhub_runtime_python.launchers.session import LocalSessionLauncher
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.settings import Settings
from digitalhub_runtime_python.stores.local import LocalStore


class LocalBackend(Backend):
    """No cluster, no server: the store is a file, runs execute here (in this process or a child)."""

    def __init__(self, settings: Settings):
        super().__init__(settings, LocalStore(settings.home))
        self._local: dict[str, Launcher] = {
            "job": LocalJobLauncher(self),
            "serve": LocalServeLauncher(self),
            "session": LocalSessionLauncher(self),
            "build": LocalBuildLauncher(self),
        }

    def launchers(self, local_execution: bool) -> dict[str, Launcher]:
        return self._local

    def claim(self, run: RunModel) -> RunModel:
        return supervision.claim(run)

    def reconcile(self, run: RunModel) -> RunModel:
        return supervision.reconcile(self, run)
