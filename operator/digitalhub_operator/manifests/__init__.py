"""Pure functions: a run, its task and function -> the Kubernetes objects that execute it."""

from .common import (
    LABEL_PREFIX,
    MANAGED_BY,
    RUN_KEY_ANNOTATION,
    RUN_LABEL,
    ManifestError,
    Owner,
    Workload,
    workload_name,
)
from .job import job_command, job_manifest
from .serve import deployment_manifest, serve_command, service_manifest, service_name, service_url

__all__ = [
    "LABEL_PREFIX",
    "MANAGED_BY",
    "ManifestError",
    "Owner",
    "RUN_KEY_ANNOTATION",
    "RUN_LABEL",
    "Workload",
    "deployment_manifest",
    "job_command",
    "job_manifest",
    "serve_command",
    "service_manifest",
    "service_name",
    "service_url",
    "workload_name",
]
