"""Create and delete the Kubernetes objects behind runs, idempotently, with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from digitalhub_runtime_python.contract import ANNOTATION_RUN_KEY
from digitalhub_runtime_python.models.resources import GROUP, VERSION


class Rejected(ValueError):
    """The API server refused an object as invalid (HTTP 400/422); retrying will not help."""


def api_message(exc: ApiException) -> str:
    """The API server's own explanation, from its Status body."""
    try:
        return json.loads(exc.body or "{}").get("message") or str(exc.reason)
    except (TypeError, ValueError):
        return str(exc.body or exc.reason)


class Cluster:
    """Typed APIs for the workload kinds the operator manages."""

    def __init__(self, api_client: client.ApiClient):
        batch, apps, core = client.BatchV1Api(api_client), client.AppsV1Api(api_client), client.CoreV1Api(api_client)
        self._create: dict[str, Callable[..., Any]] = {
            "Job": batch.create_namespaced_job,
            "CronJob": batch.create_namespaced_cron_job,
            "Deployment": apps.create_namespaced_deployment,
            "Service": core.create_namespaced_service,
            "Secret": core.create_namespaced_secret,
        }
        self._delete = {
            "Job": batch.delete_namespaced_job,
            "CronJob": batch.delete_namespaced_cron_job,
            "Deployment": apps.delete_namespaced_deployment,
            "Service": core.delete_namespaced_service,
        }
        self._read = {
            "Job": batch.read_namespaced_job,
            "CronJob": batch.read_namespaced_cron_job,
            "Deployment": apps.read_namespaced_deployment,
            "Service": core.read_namespaced_service,
        }
        self._custom = client.CustomObjectsApi(api_client)
        self._core = core

    def create(self, manifest: dict[str, Any]) -> bool:
        """Create the object; False when it already exists (a workload's name is the run's own; a Service's name
        may be chosen by the task, so whose it is gets checked: ``run_key_of``)."""
        meta = manifest["metadata"]
        try:
            # the answer is not read: parsing it into the client's models costs more than the request itself
            response: Any = self._create[manifest["kind"]](meta["namespace"], manifest, _preload_content=False)
            response.release_conn()
        except ApiException as exc:
            if exc.status == 409:
                return False
            if exc.status in (400, 422):
                raise Rejected(f"{manifest['kind']} {meta['name']} was rejected: {api_message(exc)}") from None
            raise
        return True

    def delete(self, kind: str, namespace: str, name: str, propagation: str = "Background") -> bool:
        """Delete the object and, in the background, what it owns (pods; ``Orphan``: keep them); False when it
        was already gone."""
        try:
            self._delete[kind](name, namespace, propagation_policy=propagation)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def exists(self, kind: str, namespace: str, name: str) -> bool:
        try:
            response: Any = self._read[kind](name, namespace, _preload_content=False)
            response.release_conn()
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def run_key_of(self, kind: str, namespace: str, name: str) -> str | None:
        """The key of the run an existing object was made for (its run-key annotation); None when it has none."""
        found: Any = self._read[kind](name, namespace)
        return (found.metadata.annotations or {}).get(ANNOTATION_RUN_KEY)

    def patch_run_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge-patch a Run's status directly (for Runs too malformed to load through the store)."""
        self._custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "runs", name, {"status": status})

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        """Pods matching a label selector, as plain dicts."""
        listed = self._core.list_namespaced_pod(namespace, label_selector=selector)
        return self._core.api_client.sanitize_for_serialization(listed.items)

    def log_tail(self, namespace: str, pod: str, lines: int) -> str | None:
        """The last ``lines`` lines of a pod's log; None when the pod or its log is gone."""
        try:
            text: str = self._core.read_namespaced_pod_log(pod, namespace, tail_lines=lines)
        except ApiException as exc:
            if exc.status in (400, 404):  # gone, or its container never started
                return None
            raise
        return text
