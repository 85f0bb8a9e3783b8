"""What every entity object shares: the store, settings and the launchers that execute runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..models import Project as ProjectModel
from ..models import SpecError
from ..settings import Settings
from ..stores import FileStore, Store, file_store_for

if TYPE_CHECKING:
    from .function import Function
    from .run import Run


class Launcher(Protocol):
    """Executes runs of one action somewhere (this process, a subprocess, a cluster)."""

    def launch(self, run: Run) -> None:
        """Start the run; may return before it finishes."""

    def stop(self, run: Run) -> None:
        """Stop the run if it is still going."""


@dataclass
class Client:
    """Store + launchers. ``local`` launchers serve ``local_execution`` runs, ``remote`` the others."""

    store: Store
    settings: Settings
    local: dict[str, Launcher] = field(default_factory=dict)
    remote: dict[str, Launcher] = field(default_factory=dict)
    # For remote runs: the function version whose code the executors can fetch (e.g. local code uploaded first).
    publish_code: Callable[[Function], Function] | None = None

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
        if not project.spec.artifact_store and self.settings.backend == "kubernetes":
            # A local folder (in a pod, or on a laptop) is not where other pods or users can read the files.
            raise SpecError(
                "project",
                [
                    (
                        "spec.artifact_store",
                        f"project {project.name!r} stores entities in "
                        "Kubernetes, so its files need shared storage: set artifact_store to "
                        "s3://<bucket>[/<prefix>]",
                    )
                ],
            )
        return file_store_for(project.spec.artifact_store or str(self.settings.home / "files"))
