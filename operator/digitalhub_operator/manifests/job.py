"""A job run -> one batch/v1 Job running the in-pod runner."""

from __future__ import annotations

from typing import Any

from digitalhub_operator.manifests.common import Workload, container, pod_spec, pod_template
from digitalhub_runtime_python.contract import command
from digitalhub_runtime_python.models.task import Action


def job_manifest(workload: Workload) -> dict[str, Any]:
    """The Job for a job run. No retries unless the task asks: a run is executed once."""
    spec = workload.task.spec
    pod = pod_spec(
        workload, container(workload, command(Action.JOB, workload.run.key, python="python")), restart_policy="Never"
    )
    job_spec: dict[str, Any] = {
        "backoffLimit": spec.backoff_limit if spec.backoff_limit is not None else 0,
        "template": pod_template(workload, pod),
    }
    if spec.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.active_deadline_seconds
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": workload.metadata(), "spec": job_spec}
