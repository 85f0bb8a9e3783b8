"""A scheduled job run -> a batch/v1 CronJob whose every Job creates and executes one new run of the same task.

Each Job's pod runs the pod contract's scheduled command: it creates the firing run named after its Job (see
``contract.firing_run``) and executes it in the same pod, so the CronJob's ``concurrencyPolicy``, deadline and
history limits apply to the work itself. The Jobs and pods carry ``digitalhub.io/schedule`` instead of
``digitalhub.io/run``: the operator maps them to their firing run by the Job's name.
"""

from __future__ import annotations

from typing import Any

from digitalhub_operator.manifests.common import Workload, container, pod_spec
from digitalhub_operator.manifests.job import job_spec
from digitalhub_runtime_python.contract import (
    ANNOTATION_RUN_KEY,
    LABEL_RUN,
    LABEL_SCHEDULE,
    schedule_name,
    scheduled_command,
)

OPTIONAL_FIELDS = {
    "concurrency_policy": "concurrencyPolicy",
    "suspend": "suspend",
    "successful_jobs_history_limit": "successfulJobsHistoryLimit",
    "failed_jobs_history_limit": "failedJobsHistoryLimit",
}


def cronjob_manifest(workload: Workload) -> dict[str, Any]:
    """The CronJob of a scheduled run: its schedule, the task's CronJob knobs, a Job template per firing."""
    name = schedule_name(workload.run.id)
    firing_labels = {key: value for key, value in workload.labels().items() if key != LABEL_RUN}
    firing_labels[LABEL_SCHEDULE] = name
    command = scheduled_command(workload.run.key, python="python")
    pod = pod_spec(workload, container(workload, command), restart_policy="Never")
    spec: dict[str, Any] = {
        "schedule": workload.run.spec.schedule,
        "jobTemplate": {
            "metadata": {"labels": firing_labels, "annotations": {ANNOTATION_RUN_KEY: workload.run.key}},
            "spec": job_spec(workload, pod, firing_labels),
        },
    }
    task = workload.task.spec
    for field, k8s_name in OPTIONAL_FIELDS.items():
        value = getattr(task, field)
        if value is not None:
            spec[k8s_name] = value
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": workload.metadata(name), "spec": spec}
