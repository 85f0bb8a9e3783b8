"""A build run -> one batch/v1 Job that makes the function's image and pushes it (docs/builds.md).

Its pod runs, in order, in a shared build folder (an emptyDir that is no part of the image):

1. ``prepare`` (init, the runtime image): writes the build context (the Dockerfile rendered from the function,
   its requirements and code, fetched with the task's secrets) and records the run RUNNING;
2. ``build`` (init, the builder's image): Kaniko or rootless BuildKit builds the context and pushes the image to
   ``<registry>/<project>-<function>:<function id>``, with the registry credentials of a docker-config Secret
   mounted as a file; on failure its log's end becomes its termination message, which the operator puts in the
   run's message;
3. ``runtime`` (the runtime image): reads the digest the builder wrote, stores the function version that runs in
   the image and ends the run COMPLETED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from digitalhub_operator.build_settings import BuildSettings
from digitalhub_operator.manifests.common import (
    ManifestError,
    Workload,
    container,
    pod_spec,
    pod_template,
    resource_requirements,
    volumes,
)
from digitalhub_runtime_python.contract import (
    BUILD_CONTEXT,
    BUILD_DIGEST,
    BUILD_DIR,
    BUILD_METADATA,
    BUILDER_CONTAINER,
    ENV_BUILD_DIR,
    ENV_POD_NAME,
    command,
    image_reference,
)
from digitalhub_runtime_python.models.task import Action

BUILD_VOLUME = "digitalhub-build"
REGISTRY_VOLUME = "digitalhub-registry"
DOCKER_CONFIG = "/digitalhub-registry"
"""Where the registry Secret's ``.dockerconfigjson`` is mounted, as ``config.json`` (DOCKER_CONFIG)."""
CONTEXT = BUILD_DIR / BUILD_CONTEXT


@dataclass(frozen=True)
class BuilderPod:
    """What an image builder adds to the build pod: its container, and volumes and annotations it needs."""

    container: dict[str, Any]
    volumes: list[dict[str, Any]] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)


def _mounts(settings: BuildSettings) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [{"name": BUILD_VOLUME, "mountPath": str(BUILD_DIR)}]
    if settings.registry_secret:
        mounts.append({"name": REGISTRY_VOLUME, "mountPath": DOCKER_CONFIG, "readOnly": True})
    return mounts


def _env(settings: BuildSettings, **values: str) -> list[dict[str, str]]:
    if settings.registry_secret:
        values["DOCKER_CONFIG"] = DOCKER_CONFIG
    return [{"name": name, "value": value} for name, value in values.items()]


def _builder_container(settings: BuildSettings, workload: Workload, **fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": BUILDER_CONTAINER,
        "image": settings.image,
        "imagePullPolicy": workload.settings.image_pull_policy,
        # a failing build's last log lines become the pod's termination message, which the run's message quotes
        "terminationMessagePolicy": "FallbackToLogsOnError",
        **fields,
    }
    requirements = resource_requirements(workload.task.spec.resources)
    if requirements:
        spec["resources"] = requirements
    return spec


def kaniko(settings: BuildSettings, workload: Workload, destination: str) -> BuilderPod:
    """Kaniko's executor: root in its own container (it unpacks the base image there), no privileges."""
    args = [
        f"--context=dir://{CONTEXT}",
        f"--dockerfile={CONTEXT}/Dockerfile",
        f"--destination={destination}",
        f"--digest-file={BUILD_DIR / BUILD_DIGEST}",
    ]
    if settings.cache_repo:
        args += ["--cache=true", f"--cache-repo={settings.cache_repo}"]
    container = _builder_container(
        settings,
        workload,
        args=args,
        env=_env(settings),
        volumeMounts=_mounts(settings),
        securityContext={"runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False},
    )
    return BuilderPod(container)


BUILDKIT_STATE = "digitalhub-buildkit"
BUILDKIT_HOME = "/home/user/.local/share/buildkit"


def buildkit(settings: BuildSettings, workload: Workload, destination: str) -> BuilderPod:
    """Rootless BuildKit, daemonless: uid 1000, with seccomp and AppArmor unconfined for its user namespaces."""
    args = ["build", "--frontend", "dockerfile.v0", "--local", f"context={CONTEXT}", "--local", f"dockerfile={CONTEXT}"]
    args += ["--output", f"type=image,name={destination},push=true", "--metadata-file", str(BUILD_DIR / BUILD_METADATA)]
    if settings.cache_repo:
        args += ["--export-cache", f"type=registry,ref={settings.cache_repo},mode=max"]
        args += ["--import-cache", f"type=registry,ref={settings.cache_repo}"]
    container = _builder_container(
        settings,
        workload,
        command=["buildctl-daemonless.sh"],
        args=args,
        env=_env(settings, BUILDKITD_FLAGS="--oci-worker-no-process-sandbox"),
        volumeMounts=[*_mounts(settings), {"name": BUILDKIT_STATE, "mountPath": BUILDKIT_HOME}],
        securityContext={"runAsUser": 1000, "runAsGroup": 1000, "seccompProfile": {"type": "Unconfined"}},
    )
    return BuilderPod(
        container,
        volumes=[{"name": BUILDKIT_STATE, "emptyDir": {}}],
        # the annotation, not the securityContext field: Kubernetes 1.29 has no appArmorProfile field
        annotations={f"container.apparmor.security.beta.kubernetes.io/{BUILDER_CONTAINER}": "unconfined"},
    )


BUILDERS: dict[str, Callable[[BuildSettings, Workload, str], BuilderPod]] = {"kaniko": kaniko, "buildkit": buildkit}


def destination(workload: Workload) -> str:
    """Where the image goes: ``<registry>/<project>-<function>:<function id>``."""
    registry = workload.settings.build.registry
    if not registry:
        raise ManifestError(
            "action 'build' needs a registry to push images to: set DIGITALHUB_OPERATOR_BUILD_REGISTRY "
            "(chart: build.registry), e.g. registry.example.com/digitalhub"
        )
    function = workload.function
    return image_reference(registry, function.project, function.name, function.id)


def build_job_manifest(workload: Workload) -> dict[str, Any]:
    """The Job of a build run: prepare, build and push, record; never retried (a build run builds once)."""
    settings = workload.settings.build
    image = destination(workload)
    runtime_image = workload.settings.image_for(workload.function.spec.python_version)
    env: dict[str, str | dict[str, Any]] = {
        ENV_BUILD_DIR: str(BUILD_DIR),
        "DIGITALHUB_BUILD_IMAGE": image,
        "DIGITALHUB_BUILD_BASE_IMAGE": runtime_image,
        "DIGITALHUB_BUILD_CODE": settings.code,
        "DIGITALHUB_BUILD_BUILDER": settings.builder,
        ENV_POD_NAME: {"fieldRef": {"fieldPath": "metadata.name"}},
    }
    mounts = [*volumes(workload.task)[1], {"name": BUILD_VOLUME, "mountPath": str(BUILD_DIR)}]

    def step(name: str, step: str) -> dict[str, Any]:
        line = [*command(Action.BUILD, workload.run.key, python="python"), "--step", step]
        return container(workload, line, env, name=name, image=runtime_image, volumeMounts=mounts)

    builder = BUILDERS[settings.builder](settings, workload, image)
    pod = pod_spec(workload, step("runtime", "finish"), restart_policy="Never")
    pod["initContainers"] = [step("prepare", "prepare"), builder.container]
    pod["volumes"] += [{"name": BUILD_VOLUME, "emptyDir": {}}, *builder.volumes]
    if settings.registry_secret:
        secret = {
            "secretName": settings.registry_secret,
            "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
        }
        pod["volumes"].append({"name": REGISTRY_VOLUME, "secret": secret})
    template = pod_template(workload, pod)
    template["metadata"]["annotations"].update(builder.annotations)
    job_spec: dict[str, Any] = {"backoffLimit": 0, "template": template}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": workload.metadata(), "spec": job_spec}
