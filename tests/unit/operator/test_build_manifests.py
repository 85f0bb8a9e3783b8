"""The build Job: its three steps, both builders, strict validation for Kubernetes 1.29 and 1.33, registry
credentials mounted from a Secret and never inlined, and build settings refused by name."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest

from digitalhub_operator.build_settings import EXECUTORS, BuildSettings
from digitalhub_operator.manifests.build import build_job_manifest
from digitalhub_operator.manifests.common import ManifestError
from digitalhub_operator.settings import OperatorSettings, SettingsError

REGISTRY = "registry.example.com/dh"


def settings(**build: Any) -> OperatorSettings:
    return OperatorSettings(priority=1, build=BuildSettings(registry=REGISTRY, **build))


def pod_of(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["template"]["spec"]


@pytest.mark.parametrize("builder", sorted(EXECUTORS))
def test_build_job_validates_strictly_and_runs_prepare_build_finish(make_workload, builder):
    workload = make_workload(
        "build",
        settings=settings(builder=builder, registry_secret="registry-push", cache_repo=f"{REGISTRY}/cache"),
        instructions=["apt-get install -y libgomp1"],
        secrets=["git-credentials"],
        resources={"mem": "2Gi"},
    )
    job = build_job_manifest(workload)
    for version in ("1.29", "1.33"):
        kubernetes_validate.validate(job, version, strict=True)
    pod = pod_of(job)
    prepare, build = pod["initContainers"]
    assert [prepare["name"], build["name"], pod["containers"][0]["name"]] == ["prepare", "build", "runtime"]
    step = ["python", "-m", "digitalhub_runtime_python.builder", "--run", workload.run.key, "--step"]
    assert prepare["command"] == [*step, "prepare"] and pod["containers"][0]["command"] == [*step, "finish"]
    assert prepare["image"] == "ghcr.io/scc-digitalhub/digitalhub-runtime-python:py3.11"
    assert prepare["envFrom"] == [{"secretRef": {"name": "git-credentials"}}]  # fetching code, not pushing
    env = {item["name"]: item.get("value", item.get("valueFrom")) for item in prepare["env"]}
    destination = f"{REGISTRY}/demo-train:{workload.function.id}"
    assert env["DIGITALHUB_BUILD_IMAGE"] == destination
    assert env["DIGITALHUB_POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert build["image"] == EXECUTORS[builder]
    assert build["terminationMessagePolicy"] == "FallbackToLogsOnError"  # a failure's log tail reaches the run
    assert build["resources"] == {"requests": {"memory": "2Gi"}}
    text = " ".join(build["args"])
    assert destination in text and f"{REGISTRY}/cache" in text
    assert job["spec"]["backoffLimit"] == 0


def test_kaniko_is_root_in_its_container_only(make_workload):
    pod = pod_of(build_job_manifest(make_workload("build", settings=settings())))
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    build = pod["initContainers"][1]
    assert build["securityContext"] == {"runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False}
    assert "--digest-file=/digitalhub-build/digest" in build["args"]


def test_buildkit_runs_rootless_unconfined(make_workload):
    job = build_job_manifest(make_workload("build", settings=settings(builder="buildkit")))
    build = pod_of(job)["initContainers"][1]
    assert build["securityContext"]["runAsUser"] == 1000
    assert build["securityContext"]["seccompProfile"] == {"type": "Unconfined"}
    annotations = job["spec"]["template"]["metadata"]["annotations"]
    assert annotations["container.apparmor.security.beta.kubernetes.io/build"] == "unconfined"
    assert {"name": "BUILDKITD_FLAGS", "value": "--oci-worker-no-process-sandbox"} in build["env"]


def test_registry_credentials_are_a_mounted_secret_never_inlined(make_workload):
    job = build_job_manifest(make_workload("build", settings=settings(registry_secret="registry-push")))
    pod = pod_of(job)
    [volume] = [v for v in pod["volumes"] if "secret" in v]
    assert volume["secret"] == {
        "secretName": "registry-push",
        "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
    }
    build = pod["initContainers"][1]
    assert {"name": volume["name"], "mountPath": "/digitalhub-registry", "readOnly": True} in build["volumeMounts"]
    assert {"name": "DOCKER_CONFIG", "value": "/digitalhub-registry"} in build["env"]
    runtime_mounts = [m["name"] for c in (pod["initContainers"][0], pod["containers"][0]) for m in c["volumeMounts"]]
    assert volume["name"] not in runtime_mounts  # only the builder sees the credentials
    assert "auths" not in json.dumps(job)


def test_without_a_registry_a_build_cannot_launch(make_workload):
    workload = make_workload("build", settings=OperatorSettings(priority=1))
    with pytest.raises(ManifestError, match="DIGITALHUB_OPERATOR_BUILD_REGISTRY"):
        build_job_manifest(workload)


def test_build_settings_from_the_environment():
    env = {
        "DIGITALHUB_OPERATOR_BUILD_REGISTRY": "registry.example.com/dh/",
        "DIGITALHUB_OPERATOR_BUILD_BUILDER": "buildkit",
        "DIGITALHUB_OPERATOR_BUILD_REGISTRY_SECRET": "push",
    }
    build = OperatorSettings.from_env(env).build
    assert (build.registry, build.builder, build.image) == (
        "registry.example.com/dh",
        "buildkit",
        EXECUTORS["buildkit"],
    )
    with pytest.raises(SettingsError, match="DIGITALHUB_OPERATOR_BUILD_BUILDER='docker': use kaniko or buildkit"):
        OperatorSettings.from_env({"DIGITALHUB_OPERATOR_BUILD_BUILDER": "docker"})
    with pytest.raises(SettingsError, match="DIGITALHUB_OPERATOR_BUILD_REGISTRY_SECRET='Push Me'"):
        OperatorSettings.from_env({"DIGITALHUB_OPERATOR_BUILD_REGISTRY_SECRET": "Push Me"})
