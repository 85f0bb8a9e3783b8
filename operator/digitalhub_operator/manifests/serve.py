"""A serve run -> an apps/v1 Deployment running the HTTP server, and a Service in front of it."""

from __future__ import annotations

from typing import Any

from digitalhub_operator.manifests.common import (
    EnvValue,
    ManifestError,
    Workload,
    check_dns_label,
    check_object_name,
    container,
    pod_spec,
    pod_template,
)
from digitalhub_runtime_python.contract import (
    ENV_PORT,
    ENV_SERVE_DRAIN_DELAY,
    ENV_SERVE_DRAIN_TIMEOUT,
    ENV_SERVE_JOB_STORE,
    ENV_SERVE_JOB_STORE_PASSWORD,
    LABEL_RUN,
    SERVE_PORT,
    command,
    installs_requirements,
)
from digitalhub_runtime_python.models.task import Action, ServiceType


def http_probe(path: str, period: int, failures: int) -> dict[str, Any]:
    """An HTTP probe on the container's ``http`` port."""
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "failureThreshold": failures,
        "timeoutSeconds": 2,
    }


STARTUP_CHECKS = 60
"""Startup probes (5 s apart) a serve pod gets to load its model: 5 minutes."""
INSTALL_STARTUP_CHECKS = 360
"""The same for a pod that installs its function's requirements first (no built image): 30 minutes."""


def startup_checks(workload: Workload) -> int:
    """How many failed startup probes a serve or session pod may have before it is restarted."""
    return INSTALL_STARTUP_CHECKS if installs_requirements(workload.function.spec) else STARTUP_CHECKS


def service_name(workload: Workload) -> str:
    """The task's ``service_name``, else the run's workload name."""
    name = workload.task.spec.service_name or workload.name
    check_dns_label(name, "service_name")
    if not name[0].isalpha():
        raise ManifestError(f"service_name {name!r} must start with a letter (Kubernetes Service names do)")
    return name


def service_url(workload: Workload) -> str:
    """In-cluster URL of the run's Service."""
    settings = workload.settings
    port = "" if settings.service_port == 80 else f":{settings.service_port}"
    return f"http://{service_name(workload)}.{workload.namespace}.svc.{settings.cluster_domain}{port}"


def drain_env(grace_period: int) -> dict[str, str]:
    """Shutdown timing inside the pod's grace period: /readyz reports draining for a few seconds (so Services stop
    routing to the pod) before the listener closes, then in-flight requests get the rest, minus a safety margin."""
    delay = min(5, grace_period // 4)
    return {
        ENV_SERVE_DRAIN_DELAY: str(delay),
        ENV_SERVE_DRAIN_TIMEOUT: str(max(1, grace_period - delay - 2)),
    }


def job_store_env(workload: Workload) -> dict[str, EnvValue]:
    """Where the replicas share their async jobs: the task's Redis, else the operator's default; the password only
    as a reference to its Secret, never inlined."""
    store = workload.task.spec.job_store or workload.settings.serve_job_store
    if store is None:
        return {}
    env: dict[str, EnvValue] = {ENV_SERVE_JOB_STORE: store.url}
    if store.password_secret:
        secret = check_object_name(store.password_secret, "job_store.password_secret")
        env[ENV_SERVE_JOB_STORE_PASSWORD] = {"secretKeyRef": {"name": secret, "key": store.password_key}}
    return env


def server_deployment(
    workload: Workload,
    action: Action,
    env: dict[str, EnvValue],
    *,
    replicas: int,
    strategy: dict[str, Any],
    revision_history: int,
) -> dict[str, Any]:
    """A Deployment of the pod contract's HTTP server for ``action`` (serve, session) on the ``http`` port: probes
    on /healthz and /readyz, a startup window for slow loading, the operator's termination grace period."""
    runtime = container(
        workload,
        command(action, workload.run.key, python="python"),
        env,
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
            "replicas": replicas,
            "revisionHistoryLimit": revision_history,
            "selector": {"matchLabels": {LABEL_RUN: workload.name}},
            "strategy": strategy,
            "template": pod_template(workload, pod),
        },
    }


def deployment_manifest(workload: Workload) -> dict[str, Any]:
    """The serve Deployment: replicas from the task, rolled without losing capacity, draining gracefully."""
    replicas = workload.task.spec.replicas
    grace = workload.settings.termination_grace_period
    return server_deployment(
        workload,
        Action.SERVE,
        {ENV_PORT: str(SERVE_PORT), **drain_env(grace), **job_store_env(workload)},
        replicas=replicas if replicas is not None else 1,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        revision_history=2,
    )


def service_manifest(workload: Workload) -> dict[str, Any]:
    """The Service in front of the Deployment's pods (ClusterIP unless the task says otherwise)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": workload.metadata(service_name(workload)),
        "spec": {
            "type": ServiceType(workload.task.spec.service_type or ServiceType.CLUSTER_IP).value,
            "selector": {LABEL_RUN: workload.name},
            "ports": [
                {"name": "http", "port": workload.settings.service_port, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }
