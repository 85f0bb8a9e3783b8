"""What entity objects stand on: a backend (where entities live and runs execute) and the launchers it owns."""

from __future__ import annotations

import abc
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.settings import Settings
from digitalhub_runtime_python.stores.base import LogRecord, Store
from digitalhub_runtime_python.stores.files import FileStore, file_store_for

if TYPE_CHECKING:
    from digitalhub_runtime_python.entities.function import Function
    from digitalhub_runtime_python.entities.run import Run


class Launcher(Protocol):
    """Executes runs of one action somewhere (this process, a child process, a cluster)."""

    def launch(self, run: Run) -> None:
        """Start the run; may return before it finishes."""

    def stop(self, run: Run) -> None:
        """Stop the run if it is still going."""

    def resume(self, run: Run) -> None:
        """Start a STOPPED run again; NotImplementedError (saying what to do instead) where that has no meaning."""


@dataclass(frozen=True)
class SessionAccess:
    """How to reach a session's API: its URL and the token it wants (never stored in an entity)."""

    url: str
    token: str
    pid: int | None = None  # the local server process, for a session on this machine

    def __repr__(self) -> str:
        return f"SessionAccess(url={self.url!r}, token='***', pid={self.pid})"


class SessionUnavailable(RuntimeError):
    """A session's access is not known (yet) here; the message says why."""


ACCESS_FILE = "access.json"


class Backend(abc.ABC):
    """One place: the store entities live in, the launchers that execute runs, code publishing and run logs.

    ``local_execution`` runs execute on this machine whatever the backend; the others where the backend says.
    """

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store

    @abc.abstractmethod
    def launchers(self, local_execution: bool) -> dict[str, Launcher]:
        """The launchers by action, for runs executed on this machine or where the backend executes them."""

    def launcher(self, action: str, local_execution: bool) -> Launcher:
        """The launcher for a run's action and place; a clear error when there is none."""
        launchers = self.launchers(local_execution)
        try:
            return launchers[action]
        except KeyError:
            where = "locally" if local_execution else f"on the {self.settings.backend} backend"
            available = ", ".join(sorted(launchers)) or "none"
            raise NotImplementedError(f"action {action!r} cannot run {where} (available: {available})") from None

    def claim(self, run: RunModel) -> RunModel:
        """A new run executed on this machine: record this process as executing it (until a launcher records the
        child it starts), so that the run ends if this process dies first. Nothing for runs executed elsewhere."""
        return run

    def reconcile(self, run: RunModel) -> RunModel:
        """The run as read, ended in ERROR if it was executed on this machine by a process that is gone."""
        return run

    def publish_code(self, function: Function) -> Function:
        """The function version that the place running remote runs can fetch (the function itself by default)."""
        return function

    def append_logs(self, run: RunModel, records: list[LogRecord]) -> None:
        """Keep console output of a run executing in this process."""
        self.store.append_logs(run.key, records)

    def read_logs(self, run: RunModel) -> list[LogRecord]:
        """A run's console output, from wherever it executed."""
        return self.store.read_logs(run.key)

    def session_folder(self, run_id: str) -> Path:
        """A session's folder on this machine (a pod's, or the local one's): uploads, builds, its access file."""
        return self.settings.home / "sessions" / run_id

    def session_access(self, run: RunModel) -> SessionAccess:
        """URL and token of a session run: for one on this machine, from the access file its launcher wrote."""
        try:
            data = json.loads((self.session_folder(run.id) / ACCESS_FILE).read_text())
        except FileNotFoundError:
            raise SessionUnavailable(
                f"session {run.id} runs on another machine, or has not started yet: open it where it was created"
            ) from None
        return SessionAccess(url=data["url"], token=data["token"], pid=data.get("pid"))

    def read_logs_after(self, run: RunModel, after: int = 0, limit: int = 1000) -> tuple[list[LogRecord], int]:
        """A page of a run's console output past cursor ``after``, and the cursor to read on from."""
        return self.store.read_logs_after(run.key, after, limit)

    def delete_logs(self, run: RunModel) -> None:  # noqa: B027 (the store's delete removes a run's logs)
        """Remove a deleted run's console output where ``store.delete`` did not."""

    def files(self, project: ProjectModel) -> FileStore:
        """Where the project's artifact files go: its ``artifact_store``, else ``$DIGITALHUB_HOME/files``."""
        return file_store_for(project.spec.artifact_store or str(self.settings.home / "files"))

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()
