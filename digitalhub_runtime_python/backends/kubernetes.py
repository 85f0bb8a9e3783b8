"""The Kubernetes backend: entities as custom resources in a namespace, runs executed by the operator in pods.

Runs with ``local_execution=True`` still execute on this machine; their console output is kept in a local log
store under ``$DIGITALHUB_HOME`` (a pod's output is its pod log, read through the API).
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path

from digitalhub_runtime_python.contract import SESSION_TOKEN_KEY, session_secret_name
from digitalhub_runtime_python.entities.backend import Backend, Launcher, SessionAccess, SessionUnavailable
from digitalhub_runtime_python.entities.function import Function
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.launchers import supervision
from digitalhub_runtime_python.launchers.build import LocalBuildLauncher
from digitalhub_runtime_python.launchers.job import LocalJobLauncher
from digitalhub_runtime_python.launchers.kubernetes import KubernetesLauncher
from digitalhub_runtime_python.launchers.serve import LocalServeLauncher
from digitalhub_runtime_python.launchers.session import LocalSessionLauncher
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.settings import Settings
from digitalhub_runtime_python.sources.base import SourceError, scheme_of
from digitalhub_runtime_python.sources.upload import pack_to_s3
from digitalhub_runtime_python.stores.base import LogRecord, Store
from digitalhub_runtime_python.stores.files import FileStore
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore
from digitalhub_runtime_python.stores.local import LocalStore


class KubernetesBackend(Backend):
    """A namespace of a cluster: the Kubernetes store, the operator's launchers, code published to S3."""

    def __init__(self, settings: Settings, store: KubernetesStore | None = None):
        self.kubernetes = store if store is not None else KubernetesStore(namespace=settings.namespace)
        super().__init__(settings, self.kubernetes)
        self._local: dict[str, Launcher] = {
            "job": LocalJobLauncher(self),
            "serve": LocalServeLauncher(self),
            "build": LocalBuildLauncher(self),
            "session": LocalSessionLauncher(self),
        }
        remote = KubernetesLauncher(self)
        self._remote: dict[str, Launcher] = {action: remote for action in ("job", "serve", "build", "session")}

    def launchers(self, local_execution: bool) -> dict[str, Launcher]:
        return self._local if local_execution else self._remote

    def claim(self, run: RunModel) -> RunModel:
        return supervision.claim(run)

    def reconcile(self, run: RunModel) -> RunModel:
        return supervision.reconcile(self, run)

    @functools.cached_property
    def local_logs(self) -> LocalStore:
        """Where the console output of runs executed on this machine is kept."""
        return LocalStore(self.settings.home)

    def _log_store(self, run: RunModel) -> Store:
        """Where a run's console output is: the local log store for runs executed here, else the pods' logs."""
        return self.local_logs if run.spec.local_execution else self.store

    def append_logs(self, run: RunModel, records: list[LogRecord]) -> None:
        self._log_store(run).append_logs(run.key, records)

    def read_logs(self, run: RunModel) -> list[LogRecord]:
        return self._log_store(run).read_logs(run.key)

    def read_logs_after(self, run: RunModel, after: int = 0, limit: int = 1000) -> tuple[list[LogRecord], int]:
        return self._log_store(run).read_logs_after(run.key, after, limit)

    def delete_logs(self, run: RunModel) -> None:
        """A pod's log goes with its pod; the output of a run executed here is in the local log store."""
        if run.spec.local_execution:
            self.local_logs.delete_logs(run.key)

    def session_access(self, run: RunModel) -> SessionAccess:
        """A session on the cluster: its Service's URL and the token in the Secret the operator made for it."""
        if run.spec.local_execution:
            return super().session_access(run)
        from kubernetes import client

        name = session_secret_name(run.id)
        try:
            secret = self.kubernetes.core.read_namespaced_secret(name, self.kubernetes.namespace)
        except client.ApiException as exc:
            if exc.status in (401, 403):
                raise SessionUnavailable(
                    f"session {run.id}: this identity may not read Secret {name} in namespace "
                    f"{self.kubernetes.namespace}: it needs 'get' on secrets there (docs/sessions.md)"
                ) from None
            if exc.status == 404:
                raise SessionUnavailable(f"session {run.id}: its Secret {name} does not exist (yet)") from None
            raise
        token = (secret.data or {}).get(SESSION_TOKEN_KEY)
        url = run.status.service.url if run.status.service else None
        if not token or not url:
            raise SessionUnavailable(f"session {run.id} has no token or no URL yet: the operator has not set it up")
        return SessionAccess(url=url, token=base64.b64decode(token).decode())

    def files(self, project: ProjectModel) -> FileStore:
        if not project.spec.artifact_store:
            # A local folder (in a pod, or on a laptop) is not where other pods or users can read the files.
            raise SpecError(
                "project",
                [
                    (
                        "spec.artifact_store",
                        f"project {project.name!r} stores entities in Kubernetes, so its files need shared storage: "
                        "set artifact_store to s3://<bucket>[/<prefix>]",
                    )
                ],
            )
        return super().files(project)

    def publish_code(self, function: Function) -> Function:
        """The function version pods can fetch: a local ``code_src`` is zipped to the project's artifact store."""
        code_src = function.spec.code_src
        if not code_src or scheme_of(code_src):
            return function
        project = Project(self.store.get(ProjectModel, function.project, function.project), self)
        if not project.spec.artifact_store:
            raise SourceError(
                f"function {function.name!r}: code_src {code_src!r} is a local path that pods cannot read: set the "
                "project's artifact_store (e.g. get_or_create_project(..., artifact_store='s3://bucket/prefix')) so "
                "the code is uploaded before the run, or give a remote code_src (git+https://, zip+s3://) or inline "
                "code"
            )
        uri = pack_to_s3(Path(code_src), project.spec.artifact_store, function.project)
        spec = function.spec.model_dump(exclude={"code_src", "code", "base64"})
        metadata = function.metadata
        return project.new_function(
            function.name,
            description=metadata.description,
            labels=list(metadata.labels),
            embedded=metadata.embedded,
            git_source=metadata.git_source,
            code_src=uri,
            **spec,
        )

    def close(self) -> None:
        super().close()
        if "local_logs" in self.__dict__:
            self.local_logs.close()
