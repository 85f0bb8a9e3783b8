"""A session run -> a Secret with its token, a one-replica Deployment running the session entrypoint, a Service.

The token is made here, once: the Secret's name is deterministic, so a second launch finds it and keeps it. The pod
reads it from the Secret (an env var from a secretKeyRef), the SDK through the API; it is never in the run.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from digitalhub_operator.manifests.common import Workload, container, pod_spec, pod_template
from digitalhub_operator.manifests.serve import http_probe, startup_checks
from digitalhub_runtime_python.contract import (
    ENV_SESSION_PORT,
    ENV_SESSION_TOKEN,
    LABEL_RUN,
    SERVE_PORT,
    SESSION_TOKEN_KEY,
    command,
    session_secret_name,
)
from digitalhub_runtime_python.models.task import Action


def secret_manifest(workload: Workload) -> dict[str, Any]:
    """The Secret holding a fresh token for the session's API, owned by the run."""
    token = secrets.token_urlsafe(32)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": workload.metadata(session_secret_name(workload.run.id)),
        "type": "Opaque",
        "data": {SESSION_TOKEN_KEY: base64.b64encode(token.encode()).decode()},
    }


def deployment_manifest(workload: Workload) -> dict[str, Any]:
    """One replica (its kernel's state lives in it), replaced rather than rolled: never two kernels at once."""
    token = {"secretKeyRef": {"name": session_secret_name(workload.run.id), "key": SESSION_TOKEN_KEY}}
    runtime = container(
        workload,
        command(Action.SESSION, workload.run.key, python="python"),
        {ENV_SESSION_PORT: str(SERVE_PORT), ENV_SESSION_TOKEN: token},
        ports=[{"name": "http", "containerPort": SERVE_PORT, "protocol": "TCP"}],
        startupProbe=http_probe("/healthz", 5, startup_checks(workload)),
        livenessProbe=http_probe("/healthz", 10, 3),
        readinessProbe=http_probe("/readyz", 5, 2),
    )
    pod = pod_spec(workload, runtime, restart_policy="Always", grace_period=workload.settings.termination_grace_period)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": workload.metadata(),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 1,
            "selector": {"matchLabels": {LABEL_RUN: workload.name}},
            "strategy": {"type": "Recreate"},
            "template": pod_template(workload, pod),
        },
    }
