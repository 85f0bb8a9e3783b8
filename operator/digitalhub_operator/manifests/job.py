"""A job run -> one batch/v1 Job running the in-pod runner."""

from __future__ import annotations

from typing import Any

from digitalhub_operator.manifests.common import Workload, container, pod_spec, pod_template
from digitalhub_runtime_python.contract import command
from digitalhub_runtime_python.models.task import Action


def job_spec(workload: Workload, pod: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The Job spec around a pod spec: no retries unless the task asks (a run is executed once), the task's
    deadline, deleted with its pods ``job_ttl`` seconds after it finished (the run keeps its record and its log
    tail); ``labels`` replace the template's labels."""
    spec = workload.task.spec
    template = pod_template(workload, pod)
    if labels is not None:
        template["metadata"]["labels"] = labels
    job: dict[str, Any] = {
        "backoffLimit": spec.backoff_limit if spec.backoff_limit is not None else 0,
        "ttlSecondsAfterFinished": workload.settings.job_ttl,
        "template": template,
    }
    if spec.active_deadline_seconds is not None:
        job["activeDeadlineSeconds"] = spec.active_deadline_seconds
    return job


def job_manifest(workload: Workload) -> dict[str, Any]:
    """The Job for a job run."""
    pod = pod_spec(
        workload, container(workload, command(Action.JOB, workload.run.key, python="python")), restart_policy="Never"
    )
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": workload.metadata(), "spec": job_spec(workload, pod)}
