"""What every entity object shares: the store, settings and the launchers that execute runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..models import Project as ProjectModel
from ..settings import Settings
from ..stores import FileStore, Store, file_store_for

if TYPE_CHECKING:
    from .run import Run


class Launcher(Protocol):
    """Executes runs of one action somewhere (this process, a subprocess, a cluster)."""

    def launch(self, run: "Run") -> None:
        """Start the run; may return before it finishes."""

    def stop(self, run: "Run") -> None:
        """Stop the run if it is still going."""


@dataclass
class Client:
    """Store + launchers. ``local`` launchers serve ``local_execution`` runs, ``remote`` the others."""

    store: Store
    settings: Settings
    local: dict[str, Launcher] = field(default_factory=dict)
    remote: dict[str, Launcher] = field(default_factory=dict)

    def launcher(self, action: str, local_execution: bool) -> Launcher:
        """The launcher for a run's action and place; a clear error when there is none."""
        launchers = self.local if local_execution else self.remote
        try:
            return launchers[action]
        except KeyError:
            where = "locally" if local_execution else f"on the {self.settings.backend} backend"
            available = ", ".join(sorted(launchers)) or "none"
            raise NotImplementedError(f"action {action!r} cannot run {where} (available: {available})") from None

    def files(self, project: ProjectModel) -> FileStore:
        """Where the project's artifact files go: its ``artifact_store``, else ``$DIGITALHUB_HOME/files``."""
        return file_store_for(project.spec.artifact_store or str(self.settings.home / "files"))
