"""Pieces every run workload shares: names, labels, owner reference, and the pod spec built from a task."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubernetes.utils import parse_quantity

from digitalhub_operator.settings import PREFIX, OperatorSettings
from digitalhub_runtime_python.contract import (
    ANNOTATION_RUN_KEY,
    LABEL_ACTION,
    LABEL_FUNCTION,
    LABEL_PROJECT,
    LABEL_RUN,
    MANAGED_BY,
    WORKSPACE,
    pod_settings,
    run_env,
    workload_name,
)
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Action, Resources, Task, Volume

RESERVED_VOLUMES = ("digitalhub-workspace", "digitalhub-tmp")
RESOURCE_NAMES = {"cpu": "cpu", "mem": "memory", "gpu": "nvidia.com/gpu"}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class ManifestError(ValueError):
    """A task or function that cannot become a valid Kubernetes object; the message names the field."""


@dataclass(frozen=True)
class Owner:
    """The Run custom resource that owns the workload (its children are garbage-collected with it)."""

    api_version: str
    kind: str
    name: str
    uid: str

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


@dataclass(frozen=True)
class Workload:
    """What a manifest is made from: the run, its task and function, where it goes and who owns it."""

    run: Run
    task: Task
    function: Function
    namespace: str
    owner: Owner
    settings: OperatorSettings

    @property
    def name(self) -> str:
        """Deterministic object name for this run's Job / Deployment (stable across operator restarts)."""
        return workload_name(self.run.id)

    @property
    def scheduled(self) -> bool:
        """The run executes its task on a schedule (a CronJob), not once."""
        return self.run.spec.schedule is not None

    def labels(self) -> dict[str, str]:
        return {
            **MANAGED_BY,
            LABEL_PROJECT: self.run.project,
            LABEL_FUNCTION: self.function.name,
            LABEL_ACTION: Action(self.run.spec.action).value,
            LABEL_RUN: self.name,
        }

    def metadata(self, name: str | None = None) -> dict[str, Any]:
        return {
            "name": name or self.name,
            "namespace": self.namespace,
            "labels": self.labels(),
            "annotations": {ANNOTATION_RUN_KEY: self.run.key},
            "ownerReferences": [self.owner.reference()],
        }


def check_dns_label(value: str, field: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ManifestError(
            f"{field} {value!r} is not a valid Kubernetes name: use up to 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return value


def check_object_name(value: str, field: str) -> str:
    if not _DNS_SUBDOMAIN.match(value):
        raise ManifestError(
            f"{field} {value!r} is not a valid Kubernetes object name: use lowercase letters, "
            "digits, '-' and '.', starting and ending with a letter or digit"
        )
    return value


def resource_requirements(resources: Resources, settings: OperatorSettings | None = None) -> dict[str, dict[str, str]]:
    """``cpu``/``mem``/``gpu`` -> container resources; GPUs are limits (Kubernetes needs no request for them).

    A resource the task says nothing about gets the operator's default requests and limits, so run pods are never
    BestEffort (the first evicted) unless the operator is configured with no defaults.
    """
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for field, k8s_name in RESOURCE_NAMES.items():
        amount = getattr(resources, field)
        if amount is None:
            continue
        if amount.requests and amount.limits and parse_quantity(amount.requests) > parse_quantity(amount.limits):
            raise ManifestError(
                f"resources.{field}: requests {amount.requests} exceed limits {amount.limits}: "
                "lower the request or raise the limit"
            )
        if field == "gpu":
            if amount.requests and amount.limits and parse_quantity(amount.requests) != parse_quantity(amount.limits):
                raise ManifestError("resources.gpu: requests and limits must be equal for GPUs: give one value")
            limits[k8s_name] = str(amount.limits or amount.requests)
            continue
        if amount.requests:
            requests[k8s_name] = amount.requests
        if amount.limits:
            limits[k8s_name] = amount.limits
    if settings is not None:
        chosen = requests.keys() | limits.keys()
        requests.update({name: value for name, value in settings.default_requests.items() if name not in chosen})
        limits.update({name: value for name, value in settings.default_limits.items() if name not in chosen})
    return {key: value for key, value in (("requests", requests), ("limits", limits)) if value}


def _volume_source(volume: Volume) -> dict[str, Any]:
    if volume.volume_type == "empty_dir":
        return {"emptyDir": {"sizeLimit": volume.size_limit} if volume.size_limit else {}}
    field = f"volumes[{volume.name}].source"
    source = check_object_name(volume.source or "", field)
    if volume.volume_type == "persistent_volume_claim":
        return {"persistentVolumeClaim": {"claimName": source, "readOnly": volume.read_only}}
    if volume.volume_type == "config_map":
        return {"configMap": {"name": source}}
    return {"secret": {"secretName": source}}


def volumes(task: Task) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pod's volumes and the container's mounts: the task's, plus a writable workspace and /tmp."""
    pod_volumes: list[dict[str, Any]] = [{"name": name, "emptyDir": {}} for name in RESERVED_VOLUMES]
    mounts: list[dict[str, Any]] = [
        {"name": RESERVED_VOLUMES[0], "mountPath": str(WORKSPACE)},
        {"name": RESERVED_VOLUMES[1], "mountPath": "/tmp"},
    ]
    seen = set(RESERVED_VOLUMES)
    for volume in task.spec.volumes:
        name = check_dns_label(volume.name, "volumes[].name")
        if name in seen:
            raise ManifestError(f"volumes[].name {name!r} is used twice or reserved by the operator: rename it")
        seen.add(name)
        pod_volumes.append({"name": name, **_volume_source(volume)})
        mounts.append({"name": name, "mountPath": volume.mount_path, "readOnly": volume.read_only})
    return pod_volumes, mounts


EnvValue = str | dict[str, Any]  # a value, or a valueFrom source (e.g. a secretKeyRef)


def environment(workload: Workload, extra: dict[str, EnvValue] | None = None) -> list[dict[str, Any]]:
    """The pod contract's variables (run identity, API access, home), then ``extra``, then the task's own.
    A scheduled run's pods execute a new run each: they learn its key from their Job's name."""
    reserved = [
        *run_env(None if workload.scheduled else workload.run.key, pod_settings()),
        *(
            {"name": name, "value": value} if isinstance(value, str) else {"name": name, "valueFrom": value}
            for name, value in (extra or {}).items()
        ),
    ]
    names = {item["name"] for item in reserved}
    for env in workload.task.spec.envs:
        if env.name in names:
            raise ManifestError(f"envs: {env.name} is set by the operator: remove it from the task")
    return reserved + [{"name": env.name, "value": env.value} for env in workload.task.spec.envs]


def container(
    workload: Workload, command: list[str], extra_env: dict[str, EnvValue] | None = None, **fields: Any
) -> dict[str, Any]:
    """The runtime container: image, command, env, secrets, resources, mounts and a locked-down context."""
    function = workload.function
    image = function.spec.image or workload.settings.image_for(function.spec.python_version)
    secrets = [*workload.settings.pod_secrets, *workload.task.spec.secrets]
    for secret in secrets:
        check_object_name(secret, "secrets[]")
    spec: dict[str, Any] = {
        "name": "runtime",
        "image": image,
        "imagePullPolicy": workload.settings.image_pull_policy,
        "command": command,
        "workingDir": str(WORKSPACE),
        "env": environment(workload, extra_env),
        "volumeMounts": volumes(workload.task)[1],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        **fields,
    }
    if secrets:
        spec["envFrom"] = [{"secretRef": {"name": name}} for name in dict.fromkeys(secrets)]
    requirements = resource_requirements(workload.task.spec.resources, workload.settings)
    if requirements:
        spec["resources"] = requirements
    return spec


def service_account(workload: Workload) -> str:
    """The pod's ServiceAccount: the task's when the operator allows it (never the operator's own), else the
    default runner account."""
    settings = workload.settings
    requested = workload.task.spec.service_account
    if requested is None:
        return settings.run_service_account
    check_object_name(requested, "service_account")
    if requested == settings.own_service_account:
        raise ManifestError(
            f"service_account {requested!r} is the operator's own: run pods never get it; remove it from the task"
        )
    allowed = (settings.run_service_account, *settings.allowed_service_accounts)
    if requested not in allowed:
        raise ManifestError(
            f"service_account {requested!r} is not allowed: allowed are {', '.join(allowed)} (the operator's "
            f"{PREFIX}ALLOWED_SERVICE_ACCOUNTS adds to them); remove it from the task, or ask the cluster's "
            "administrator to allow it"
        )
    return requested


def pod_spec(
    workload: Workload, runtime_container: dict[str, Any], restart_policy: str, grace_period: int | None = None
) -> dict[str, Any]:
    """Pod spec around the runtime container: scheduling knobs, volumes, service account, security."""
    spec = workload.task.spec
    pod: dict[str, Any] = {
        "restartPolicy": restart_policy,
        "serviceAccountName": service_account(workload),
        "automountServiceAccountToken": True,  # the runtime talks to the Kubernetes API
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
            "fsGroup": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [runtime_container],
        "volumes": volumes(workload.task)[0],
    }
    if grace_period is not None:
        pod["terminationGracePeriodSeconds"] = grace_period
    if spec.node_selector:
        pod["nodeSelector"] = dict(spec.node_selector)
    if spec.affinity:
        pod["affinity"] = spec.affinity
    if spec.tolerations:
        pod["tolerations"] = list(spec.tolerations)
    if spec.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": name} for name in dict.fromkeys(spec.image_pull_secrets)]
    if spec.priority_class_name:
        pod["priorityClassName"] = spec.priority_class_name
    return pod


def pod_template(workload: Workload, pod: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"labels": workload.labels(), "annotations": {ANNOTATION_RUN_KEY: workload.run.key}},
        "spec": pod,
    }
