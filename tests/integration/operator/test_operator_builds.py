"""A build run through the real operator: the build Job's spec, the runtime's prepare and finish steps really
executed (the builder played by the test, as the kubelet is), the image written back to the function, and a failed
build ending the run in ERROR with the builder's last lines."""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate
import pytest
from operator_harness import PROJECT, finished, job_condition, running

from digitalhub_runtime_python.contract import workload_name
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
REGISTRY = "registry.example.com/dh"
SECRET, TOKEN = "registry-push", "s3cr3t-push-token"
DIGEST = "sha256:" + "ab" * 32
BUILDER_LOG = "INFO[0003] Unpacking rootfs\nINFO[0009] RUN apt-get install -y libgomp1\nINFO[0021] Pushed image\n"


@pytest.fixture(scope="module")
def operator(start_operator, world):
    auth = {"auths": {"registry.example.com": {"auth": TOKEN}}}
    world.core.create_namespaced_secret(
        world.namespace,
        {
            "metadata": {"name": SECRET},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": json.dumps(auth)},
        },
    )
    return start_operator(
        DIGITALHUB_OPERATOR_PENDING_DEADLINE="120",
        DIGITALHUB_OPERATOR_BUILD_REGISTRY=REGISTRY,
        DIGITALHUB_OPERATOR_BUILD_REGISTRY_SECRET=SECRET,
    )


def step(world, job, kubeconfig, tmp_path: Path, pod: str, name: str) -> int:
    """Run the build pod's ``name`` container here, with the pod's build folder and home under ``tmp_path``."""
    build_dir, home = tmp_path / "build", tmp_path / "home"
    return world.execute(
        job, kubeconfig, home, timeout=120, container=name, DIGITALHUB_BUILD_DIR=str(build_dir), DIGITALHUB_POD_NAME=pod
    )


def pod_with_builder(name: str, exit_code: int, message: str = "") -> dict:
    """A build pod's status once its builder (an init container) ended with ``exit_code``."""
    terminated = {"reason": "Completed" if exit_code == 0 else "Error", "exitCode": exit_code}
    if message:
        terminated["message"] = message
    init = [
        {
            "name": "prepare",
            "ready": True,
            "restartCount": 0,
            "image": "x",
            "imageID": "",
            "state": {"terminated": {"reason": "Completed", "exitCode": 0}},
        },
        {
            "name": name,
            "ready": False,
            "restartCount": 0,
            "image": "x",
            "imageID": "",
            "state": {"terminated": terminated},
        },
    ]
    return {"phase": "Pending" if exit_code == 0 else "Failed", "initContainerStatuses": init}


def test_a_build_makes_a_function_version_that_runs_in_the_pushed_image(
    operator, world, kube_server, kubeconfig, tmp_path
):
    run = world.run("build", instructions=["apt-get install -y libgomp1"])
    source = world.store.get_as(Function, run.spec.function)
    name = workload_name(run.id)
    job = wait_for(lambda: world.job(name), what="the build Job")
    for version in ("1.29", "1.33"):
        kubernetes_validate.validate(job, version, strict=True)
    assert TOKEN not in json.dumps(job)  # the credentials stay in their Secret, mounted as a file
    pod_spec = job["spec"]["template"]["spec"]
    assert {
        "name": "digitalhub-registry",
        "secret": {"secretName": SECRET, "items": [{"key": ".dockerconfigjson", "path": "config.json"}]},
    } in pod_spec["volumes"]
    destination = f"{REGISTRY}/{PROJECT}-{source.name}:{source.id}"
    assert f"--destination={destination}" in pod_spec["initContainers"][1]["args"]
    world.wait_run(run, lambda r: r.status.kubernetes and r.status.kubernetes.job == name, "launched")

    pod = world.start_pod(job)
    world.pod_status(pod, {"phase": "Pending"})
    assert step(world, job, kubeconfig, tmp_path, pod, "prepare") == 0
    building = world.wait_run(run, lambda r: r.status.state == State.RUNNING, "RUNNING")
    assert building.status.build.image == destination and building.status.build.builder == "kaniko"
    assert "RUN apt-get install -y libgomp1" in building.status.build.dockerfile
    assert (tmp_path / "build" / "context" / "Dockerfile").read_text() == building.status.build.dockerfile

    # the builder: pushes, writes the digest where Kaniko's --digest-file says, logs
    (tmp_path / "build" / "digest").write_text(DIGEST)
    kube_server.emulator.pod_logs[(world.namespace, pod)] = BUILDER_LOG
    world.pod_status(pod, {**pod_with_builder("build", 0), **running()})
    assert step(world, job, kubeconfig, tmp_path, pod, "runtime") == 0
    world.pod_status(pod, finished("Completed", 0))
    world.job_status(name, job_condition("Complete", "CompletionsReached"))

    done = world.wait_run(run, lambda r: r.status.state == State.COMPLETED and r.status.kubernetes.pods, "COMPLETED")
    built = world.store.get_as(Function, done.status.build.function)
    assert built.spec.image == f"{destination}@{DIGEST}" and done.status.build.digest == DIGEST
    assert (built.name, built.spec.code, built.spec.handler) == (source.name, source.spec.code, source.spec.handler)
    assert built.id != source.id and built.metadata.relationships[0].dest == run.key
    assert world.store.get(Function, PROJECT, source.name).id == built.id  # the latest version: later runs use it
    assert done.status.build.log.endswith("INFO[0021] Pushed image")
    assert [t.state for t in done.status.transitions] == ["CREATED", "READY", "RUNNING", "COMPLETED"]


def test_a_failed_build_ends_in_error_with_the_builders_last_lines(operator, world, kubeconfig, tmp_path):
    run = world.run("build", instructions=["false"])
    name = workload_name(run.id)
    job = wait_for(lambda: world.job(name), what="the build Job")
    pod = world.start_pod(job)
    assert step(world, job, kubeconfig, tmp_path, pod, "prepare") == 0
    world.wait_run(run, lambda r: r.status.state == State.RUNNING, "RUNNING")
    tail = "INFO[0004] RUN false\nerror building image: error building stage: failed to execute command: exit status 1"
    world.pod_status(pod, pod_with_builder("build", 1, tail))
    world.job_status(
        name, job_condition("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    )
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR")
    assert f"job {name} failed: BackoffLimitExceeded" in failed.status.message
    assert "RUN false\nerror building image" in failed.status.message
    assert failed.status.error.type == "BackoffLimitExceeded"


def test_code_the_build_cannot_fetch_ends_the_run_in_the_prepare_step(operator, world, kubeconfig, tmp_path):
    function = world.function(code=None, code_src="git+https://127.0.0.1:9/absent.git")
    run = world.run("build", function=function)
    job = wait_for(lambda: world.job(workload_name(run.id)), what="the build Job")
    pod = world.start_pod(job)
    assert step(world, job, kubeconfig, tmp_path, pod, "prepare") == 1
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR")
    assert failed.status.error.type == "SourceError" and "absent.git" in failed.status.message
