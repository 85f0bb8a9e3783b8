"""Runs on a cluster: the launcher of the kubernetes backend, local code publishing, and the pod contract.

Creating the Run custom resource *is* the launch: the operator sees it and starts a Job (or Deployment) whose
container runs :func:`runner_command` with :func:`runner_env`. Stopping moves the Run to STOPPED through the store
(optimistic concurrency arbitrates against the pod finishing at the same moment); the operator deletes the workload
of a STOPPED run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..entities import Client, Function, Project, Run
from ..models import IllegalTransition, State
from ..models import Project as ProjectModel
from ..models import Run as RunModel
from ..settings import Settings
from ..sources import SourceError, scheme_of
from ..sources.upload import pack_to_s3

POD_HOME = Path("/workspace/.digitalhub")


def runner_env(run: RunModel, settings: Settings) -> list[dict[str, Any]]:
    """Container env for the pod executing ``run``: the settings' variables, the run key, unbuffered output.

    Without a namespace in ``settings`` the pod reads its own from the downward API.
    """
    env: list[dict[str, Any]] = [{"name": name, "value": value} for name, value in settings.environ().items()]
    if not settings.namespace:
        env.append({"name": "DIGITALHUB_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}})
    env += [{"name": "DIGITALHUB_RUN_KEY", "value": run.key}, {"name": "PYTHONUNBUFFERED", "value": "1"}]
    return env


def pod_settings(namespace: str | None = None) -> Settings:
    """The settings a run's pod works with: kubernetes backend, a writable home under /workspace."""
    return Settings(backend="kubernetes", home=POD_HOME, namespace=namespace)


def publish_code(function: Function) -> Function:
    """The function version pods can fetch: a local ``code_src`` is zipped to the project's artifact store first."""
    code_src = function.spec.code_src
    if not code_src or scheme_of(code_src):
        return function
    client = function.client
    project = Project(client.store.get(ProjectModel, function.project, function.project), client)
    if not project.spec.artifact_store:
        raise SourceError(
            f"function {function.name!r}: code_src {code_src!r} is a local path that pods cannot read: set the "
            "project's artifact_store (e.g. get_or_create_project(..., artifact_store='s3://bucket/prefix')) so the "
            "code is uploaded before the run, or give a remote code_src (git+https://, zip+s3://) or inline code"
        )
    uri = pack_to_s3(Path(code_src), project.spec.artifact_store, function.project)
    spec = function.spec.model_dump(exclude={"code_src", "code", "base64"})
    return project.new_function(
        function.name,
        description=function.metadata.description,
        labels=list(function.metadata.labels),
        code_src=uri,
        **spec,
    )


class KubernetesLauncher:
    """Remote runs of one action: the operator executes the Run CR the SDK created."""

    def __init__(self, client: Client):
        self.client = client

    def launch(self, run: Run) -> None:
        """Nothing more to do: the stored Run custom resource is what the operator acts on."""

    def stop(self, run: Run) -> None:
        """Move the run to STOPPED; a run that finished meanwhile stays as it ended."""
        try:
            self.client.store.transition(run.key, State.STOPPED, "stopped by user")
        except IllegalTransition:
            pass
